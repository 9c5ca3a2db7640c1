/**
 * The installer's settings, from the manifest's "config" (mc/config). Every value
 * may also come from the mcconfig command line (`grid=… brokerHost=…`), where it
 * is a string, so numbers and booleans are accepted as text too. Pure: no
 * Moddable module, so it is tested on Node against manifest.json itself.
 */
import { fail } from '../../../protocol/index.ts';
import { MeterCodes, boolSetting, intSetting, parseMeterConfig, type MeterConfig } from '../../core/index.ts';

export interface InstallerSettings {
  meter: MeterConfig;
  broker: { host: string; port: number; tls: boolean };
  /** Absent when no ssid was given (the Linux host uses its own network). */
  wifi: { ssid: string; password: string | undefined } | undefined;
  sntpHost: string;
  s0: {
    importPin: number;
    /** Second S0 output of a bidirectional meter, for export; undefined if not wired. */
    exportPin: number | undefined;
    /** Line level during a pulse: 0 with a pull-up and an optocoupler or open collector. */
    activeLevel: 0 | 1;
  };
  relay: {
    pin: number;
    /** Output level that closes the relay, i.e. supplies the household. */
    activeLevel: 0 | 1;
  };
  /** Linux host only: the simulated household's power, W. */
  simPowerW: number;
}

function text(name: string, v: unknown, fallback?: string): string {
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    return fail(MeterCodes.BAD_CONFIG, `setting ${name} is missing; set it in manifest.json's config or as ${name}=… on the mcconfig command line`);
  }
  if (typeof v !== 'string') fail(MeterCodes.BAD_CONFIG, `setting ${name} must be text, got ${JSON.stringify(v)}`);
  return v;
}

const level = (name: string, v: unknown, fallback: 0 | 1): 0 | 1 => (v === undefined ? fallback : (intSetting(name, v, 0, 1) as 0 | 1));
/** ESP32 GPIO numbers 0…48 (the S3 has the most). */
const pin = (name: string, v: unknown): number => intSetting(name, v, 0, 48);

/** Throws E_BAD_CONFIG naming the setting and the way to fix it. */
export function parseInstallerSettings(c: Readonly<Record<string, unknown>>): InstallerSettings {
  const persistEveryMin = c.persistEveryMin === undefined ? undefined : intSetting('persistEveryMin', c.persistEveryMin, 1, 1440);
  const meter = parseMeterConfig({
    grid: c.grid,
    readingPeriodMs: c.readingPeriodMs,
    pulsesPerKWh: c.pulsesPerKWh,
    debounceMs: c.debounceMs,
    relayPowerOn: c.relayPowerOn,
    authorityKey: c.authorityKey,
    persistEveryWh: c.persistEveryWh,
    persistEveryMs: persistEveryMin === undefined ? undefined : persistEveryMin * 60_000,
    outboxMax: c.outboxMax,
  });
  const exportPin = c.s0ExportPin === undefined ? -1 : intSetting('s0ExportPin', c.s0ExportPin, -1, 48);
  const ssid = c.ssid === undefined || c.ssid === '' ? undefined : text('ssid', c.ssid);
  const tls = c.brokerTls === undefined ? false : boolSetting('brokerTls', c.brokerTls);
  return {
    meter,
    broker: {
      host: text('brokerHost', c.brokerHost),
      port: c.brokerPort === undefined ? (tls ? 8883 : 1883) : intSetting('brokerPort', c.brokerPort, 1, 65535),
      tls,
    },
    wifi: ssid === undefined ? undefined : { ssid, password: c.password === undefined || c.password === '' ? undefined : text('password', c.password) },
    sntpHost: text('sntpHost', c.sntpHost, 'pool.ntp.org'),
    s0: { importPin: pin('s0ImportPin', c.s0ImportPin), exportPin: exportPin < 0 ? undefined : exportPin, activeLevel: level('s0ActiveLevel', c.s0ActiveLevel, 0) },
    relay: { pin: pin('relayPin', c.relayPin), activeLevel: level('relayActiveLevel', c.relayActiveLevel, 1) },
    simPowerW: c.simPowerW === undefined ? 500 : intSetting('simPowerW', c.simPowerW, 0, 100_000),
  };
}
