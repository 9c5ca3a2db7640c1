import { scaledClock, systemClock } from '../../protocol/index.ts';
import { dataPaths } from '../config.ts';
import { Gateway } from '../gateway.ts';
import { readKeystore } from '../keystore.ts';
import { createLogger, type Level } from '../log.ts';
import { guard, parse, passphrase, UsageError } from './util.ts';

export const help = `
helios gateway — run the grid's gateway: ledger and block production, HTTP API

Usage: helios gateway [options]

  --data DIR          data directory made by "helios init" (default ./data)
  --http-host HOST    HTTP bind address (default from gateway.json: 127.0.0.1)
  --http-port N       HTTP port; 0 picks a free one (default from gateway.json: 8080)
  --speed S           run the clock S times faster than real time (demo: 60)
  --log-level LEVEL   debug | info | warn | error (default info)

The authority key's passphrase comes from HELIOS_PASSPHRASE or is asked for.
Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.
`;

export function run(argv: string[]): Promise<number> {
  return guard(help, async () => {
    const { values: v } = parse(argv, {
      data: { type: 'string', default: 'data' },
      'http-host': { type: 'string' },
      'http-port': { type: 'string' },
      speed: { type: 'string', default: '1' },
      'log-level': { type: 'string', default: 'info' },
    });
    const speed = Number(v.speed);
    if (!(speed > 0)) throw new UsageError('--speed must be a positive number');
    const paths = dataPaths(v.data);
    const keyFile = readKeystore(paths.authorityKey);
    const pass = keyFile.insecure ? undefined : await passphrase('HELIOS_PASSPHRASE', 'Passphrase for the authority key: ');
    const clock = speed === 1 ? systemClock() : scaledClock(systemClock(), speed);
    const gw = await Gateway.start({
      dataDir: v.data!,
      clock,
      passphrase: pass,
      httpHost: v['http-host'],
      httpPort: v['http-port'] !== undefined ? Number(v['http-port']) : undefined,
      log: createLogger({ level: v['log-level'] as Level }),
    });
    process.stdout.write(`helios gateway: grid "${gw.ledger.genesis.grid}", height ${gw.ledger.tip.height}, HTTP ${gw.httpUrl}${speed !== 1 ? `, clock ×${speed}` : ''}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await gw.stop();
    return 0;
  });
}
