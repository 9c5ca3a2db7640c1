/**
 * Runs inside XS for bench/firmware.ts. Defines the stages as globals; the
 * bench evaluates them one by one so that xsnap reports the live slots after
 * each (`gc()` first). A meter on a fake platform: memory preference store,
 * manual clock, a transport that accepts and discards.
 */
import { p256 } from '@noble/curves/nist.js';
import { ManualClock, generateKeyPair, signBytes } from '../protocol/index.ts';
import {
  Meter, parseMeterConfig, readingPayload, type MqttTransport, type PreferenceStore, type PreferenceValue,
} from '../firmware/core/index.ts';
import { ProfileEnergySource } from '../firmware/platform/node/energy.ts';

let seed = 11;
const entropy = (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);

const store = new Map<string, PreferenceValue>();
const storage: PreferenceStore = {
  get: (d, k) => store.get(`${d}/${k}`),
  set: (d, k, v) => { store.set(`${d}/${k}`, v); },
  delete: (d, k) => { store.delete(`${d}/${k}`); },
};
const clock = new ManualClock(1774098000000);
const transport: MqttTransport = {
  connect(_o, h) {
    clock.setTimeout(() => h.onReady(), 0);
    return { publish() {}, subscribe() {}, close() {} };
  },
};

const g = globalThis as unknown as Record<string, unknown>;
const now = (): number => (typeof g.performance === 'object' ? (g.performance as { now(): number }).now() : Date.now());
let meter: Meter | undefined;

g.bench = {
  /**
   * Boot a meter: key from entropy, first reading (builds the curve's precomputed
   * tables, with window `w` as firmware/platform/moddable/main.ts sets it on a device).
   */
  boot(w?: number) {
    if (w !== undefined) p256.Point.BASE.precompute(w);
    const energy = new ProfileEnergySource({ power: 2000, startMs: clock.now() });
    meter = new Meter({
      config: parseMeterConfig({ grid: 'bench', readingPeriodMs: 60_000, relayPowerOn: 'closed' }),
      storage, clock, clockSet: true, entropy, transport, relay: { set() {} }, energy,
    });
    meter.start();
    clock.advance(60_000);
    report({ stage: 'boot', seq: meter.snapshot().seq });
  },
  /** ms per signed reading: sign + encode only, then the whole reading path of the meter. */
  readings(n: number) {
    const key = generateKeyPair(entropy);
    const body = {
      type: 'Reading' as const, grid: 'bench', meter: key.keyId, seq: 1, t: 1774098000000, importMWh: 1234567, exportMWh: 89,
      powerW: -250, relay: 'closed' as const, creditMWh: 316, fw: 'helios-fw 0.1.0',
    };
    for (let i = 0; i < 3; i++) readingPayload({ ...body, seq: i + 1 }, (m) => signBytes(m, key.secretKey));
    let t0 = now();
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes = readingPayload({ ...body, seq: i + 10 }, (m) => signBytes(m, key.secretKey)).length;
    const signEncodeMs = (now() - t0) / n;
    t0 = now();
    for (let i = 0; i < n; i++) clock.advance(60_000);
    const meterReadingMs = (now() - t0) / n;
    report({ stage: 'readings', n, signEncodeMs, meterReadingMs, payloadBytes: bytes, seq: meter?.snapshot().seq, outbox: meter?.snapshot().outbox.length });
  },
};
