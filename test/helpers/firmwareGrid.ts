/**
 * A fresh grid and the real firmware built for it (simulator/mcsim.ts): the grid's id and
 * authority key and the gateway's MQTT port are compiled in, as an installer's build
 * would have them. The port is the first free one of `ports` — a short fixed list, so the
 * cached build of an earlier run is used again.
 */
import type { FirmwareSettings, Sdk } from '../../simulator/mcsim.ts';
import { buildLinFirmware } from '../../simulator/mcsim.ts';
import { newGridDir, type GridDir } from './gateway.ts';
import { portFree } from './waiting.ts';

export interface FirmwareGrid {
  grid: GridDir;
  /** The operator's HTTP credential. */
  auth: Record<string, string>;
  /** The gateway's MQTT port the firmware connects to. */
  port: number;
  mcso: string;
  cached: boolean;
}

export async function gridWithFirmware(sdk: Sdk, ports: number[], settings: FirmwareSettings): Promise<FirmwareGrid> {
  const grid = newGridDir({ blockPeriodMs: 200 });
  let port: number | undefined;
  for (const p of ports) if (await portFree(p)) { port = p; break; }
  if (!port) throw new Error(`none of the ports ${ports.join(', ')} is free for the gateway's MQTT listener`);
  const build = buildLinFirmware(sdk, {
    grid: grid.genesis.grid, brokerHost: '127.0.0.1', brokerPort: port, authorityKey: grid.authority.publicKey, ...settings,
  });
  return { grid, auth: { authorization: `Bearer ${grid.operatorSecret}` }, port, mcso: build.mcso, cached: build.cached };
}
