import { anchoredClock, scaledClock, systemClock } from '../../protocol/index.ts';
import { dataPaths, readRunInfo } from '../config.ts';
import { Gateway } from '../gateway.ts';
import { readKeystore } from '../keystore.ts';
import { createLogger, type Level } from '../log.ts';
import { guard, parse, passphrase, UsageError } from './util.ts';

export const help = `
helios gateway — run the grid's gateway: MQTT broker and readings pipeline,
ledger and block production, HTTP API

Usage: helios gateway [options]

  --data DIR          data directory made by "helios init" (default ./data)
  --http-host HOST    HTTP bind address (default from gateway.json: 127.0.0.1)
  --http-port N       HTTP port; 0 picks a free one (default from gateway.json: 8080)
  --mqtt-host HOST    MQTT bind address (default from gateway.json: 127.0.0.1)
  --mqtt-port N       MQTT over TCP (default 1883); 0 picks a free one, "off" disables
  --mqtt-tls-port N   MQTT over TLS (default 8883; certificate in DIR/tls)
  --mqtt-ws-port N    MQTT over WebSocket (default 8083)
  --speed S           run the clock S times faster than real time (demo: 60)
  --clock-start T     with --speed: the simulated time at --clock-anchor (ms or ISO 8601)
  --clock-anchor MS   with --clock-start: the real time (ms since the epoch) it corresponds to,
                      so a simulator and this gateway tell the same time, across restarts
  --verify-workers N  signature-checking threads (default: cores − 1, at least 1; 0 checks inline)
  --log-level LEVEL   debug | info | warn | error (default info)

The authority key's passphrase comes from HELIOS_PASSPHRASE or is asked for.
Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.

helios gateway wait [--data DIR] [--timeout S]
  Wait until the gateway of DIR (started in another terminal, or in the background
  with "&") answers, and print where it listens; exits 1 after S seconds (default 60).
`;

/** \`helios gateway wait\`: a script (or a person) starts the gateway in the background, then waits for it. */
async function waitReady(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, { data: { type: 'string', default: 'data' }, timeout: { type: 'string', default: '60' } });
  const timeout = Number(v.timeout);
  if (!(timeout > 0)) throw new UsageError(`--timeout must be a positive number of seconds, got ${v.timeout}`);
  const paths = dataPaths(v.data);
  const end = Date.now() + timeout * 1000;
  for (;;) {
    const info = readRunInfo(paths);
    if (info) {
      const health = await fetch(info.http + '/api/health').then((r) => (r.ok ? r.json() as Promise<{ height: number }> : undefined), () => undefined);
      if (health) {
        process.stdout.write([
          `helios gateway: grid "${info.grid}", height ${health.height}${info.clock ? `, clock ×${info.clock.speed}` : ''}`,
          `  HTTP API   ${info.http}`,
          ...(info.mqtt ? [`  MQTT       ${info.mqtt}`] : []),
          '',
        ].join('\n'));
        return 0;
      }
    }
    if (Date.now() > end) {
      process.stderr.write(`helios: E_TIMEOUT: no gateway answers for ${paths.dir} after ${timeout} s${info ? ` (run/gateway.json names ${info.http})` : ' (no run/gateway.json)'}. Start one with "helios gateway --data ${paths.dir}", or raise --timeout\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function port(name: string, s: string): number {
  if (!/^\d+$/.test(s) || Number(s) > 65535) throw new UsageError(`--${name} must be a port number (0 picks a free one)`);
  return Number(s);
}

function portOrOff(name: string, s: string): number | null {
  return s === 'off' ? null : port(name, s);
}

export function run(argv: string[]): Promise<number> {
  return guard(help, async () => {
    if (argv[0] === 'wait') return waitReady(argv.slice(1));
    const { values: v } = parse(argv, {
      data: { type: 'string', default: 'data' },
      'http-host': { type: 'string' },
      'http-port': { type: 'string' },
      'mqtt-host': { type: 'string' },
      'mqtt-port': { type: 'string' },
      'mqtt-tls-port': { type: 'string' },
      'mqtt-ws-port': { type: 'string' },
      speed: { type: 'string', default: '1' },
      'clock-start': { type: 'string' },
      'clock-anchor': { type: 'string' },
      'verify-workers': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
    });
    const speed = Number(v.speed);
    if (!(speed > 0)) throw new UsageError('--speed must be a positive number');
    const paths = dataPaths(v.data);
    const keyFile = readKeystore(paths.authorityKey);
    const pass = keyFile.insecure ? undefined : await passphrase('HELIOS_PASSPHRASE', 'Passphrase for the authority key: ');
    let clock = speed === 1 ? systemClock() : scaledClock(systemClock(), speed);
    // An accelerated clock is written to run/gateway.json, so a virtual meter (helios meter run) keeps the same time.
    let clockInfo: { speed: number; start: number; anchor: number } | undefined;
    if (v['clock-start'] !== undefined || v['clock-anchor'] !== undefined) {
      const start = /^\d+$/.test(v['clock-start'] ?? '') ? Number(v['clock-start']) : Date.parse(v['clock-start'] ?? '');
      const anchor = Number(v['clock-anchor']);
      if (Number.isNaN(start) || !Number.isInteger(anchor)) throw new UsageError('--clock-start and --clock-anchor go together: a time (ms or ISO) and a real time in ms');
      clock = anchoredClock(systemClock(), speed, start, anchor);
      clockInfo = { speed, start, anchor };
    } else if (speed !== 1) {
      const anchor = Date.now();
      clock = anchoredClock(systemClock(), speed, anchor, anchor);
      clockInfo = { speed, start: anchor, anchor };
    }
    const workers = v['verify-workers'] !== undefined ? Number(v['verify-workers']) : undefined;
    if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0)) throw new UsageError('--verify-workers must be a whole number');
    const gw = await Gateway.start({
      dataDir: v.data!,
      clock,
      passphrase: pass,
      httpHost: v['http-host'],
      httpPort: v['http-port'] !== undefined ? port('http-port', v['http-port']) : undefined,
      mqttHost: v['mqtt-host'],
      mqttPort: v['mqtt-port'] !== undefined ? portOrOff('mqtt-port', v['mqtt-port']) : undefined,
      mqttTlsPort: v['mqtt-tls-port'] !== undefined ? portOrOff('mqtt-tls-port', v['mqtt-tls-port']) : undefined,
      mqttWsPort: v['mqtt-ws-port'] !== undefined ? portOrOff('mqtt-ws-port', v['mqtt-ws-port']) : undefined,
      log: createLogger({ level: v['log-level'] as Level }),
      verifyWorkers: workers,
      clockInfo,
    });
    const r = gw.runInfo();
    process.stdout.write([
      `helios gateway: grid "${gw.ledger.genesis.grid}", height ${gw.ledger.tip.height}${speed !== 1 ? `, clock ×${speed}` : ''}`,
      `  HTTP API   ${r.http}`,
      ...(r.mqtt ? [`  MQTT       ${r.mqtt}`] : []),
      ...(r.mqttTls ? [`  MQTTS      ${r.mqttTls}  (CA ${r.caCert})`] : []),
      ...(r.mqttWs ? [`  MQTT/WS    ${r.mqttWs}`] : []),
      '',
    ].join('\n'));
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await gw.stop();
    return 0;
  });
}
