/**
 * The installer's settings. On a device they come from the manifest's `config`
 * (mc/config, overridable on the mcconfig command line, where every value is a
 * string); on Node from the factory's options. `parseMeterConfig` turns either into
 * one typed, checked MeterConfig, or throws E_BAD_CONFIG naming the setting.
 */
import { decodePublicKey, fail, matches } from '../../protocol/index.ts';
import { MeterCodes } from './errors.ts';

export const FIRMWARE_VERSION = 'helios-fw 0.1.0';

export type RelayPowerOn = 'open' | 'closed';

export interface BackoffConfig {
  /** First reconnect delay, ms (before jitter). */
  baseMs: number;
  /** Longest reconnect delay, ms. */
  capMs: number;
  /** A connection that lasted this long resets the backoff to its base. */
  stableMs: number;
}

export interface MeterConfig {
  /** Grid id (= chain id), docs/protocol.md §1. */
  grid: string;
  /** Firmware version reported in readings, Hello and Status. */
  fw: string;
  /** A signed reading every this many ms. */
  readingPeriodMs: number;
  /** S0 pulses per kWh of the DIN-rail meter (typically 1000). */
  pulsesPerKWh: number;
  /** An S0 edge counts only after the line was idle this long (pulses are ≥ 30 ms). */
  debounceMs: number;
  /** Relay state from the first instant of boot until the meter can judge its credit (clock set). */
  relayPowerOn: RelayPowerOn;
  /** The enrolling authority's public key if the installer knows it; else pinned from the first valid Enrolment. */
  authorityKey?: string;
  /** Persist the registers at least every this many Wh … */
  persistEveryWh: number;
  /** … or this many ms, whichever comes first (and always before a reading is sent). */
  persistEveryMs: number;
  /** Unacknowledged readings kept in RAM; the oldest is dropped beyond this. */
  outboxMax: number;
  backoff: BackoffConfig;
  /** MQTT keep-alive, ms. */
  keepaliveMs: number;
  /** Give up a connection attempt that has not reached CONNACK after this long, ms. */
  connectTimeoutMs: number;
}

export const DEFAULT_CONFIG: Omit<MeterConfig, 'grid'> = {
  fw: FIRMWARE_VERSION,
  readingPeriodMs: 60_000,
  pulsesPerKWh: 1000,
  debounceMs: 20,
  relayPowerOn: 'open',
  persistEveryWh: 10,
  persistEveryMs: 5 * 60_000,
  outboxMax: 60,
  backoff: { baseMs: 1000, capMs: 5 * 60_000, stableMs: 30_000 },
  keepaliveMs: 60_000,
  connectTimeoutMs: 30_000,
};

const GRID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** An integer setting given as a number or, from the mcconfig command line, as decimal text. */
export function intSetting(name: string, v: unknown, min: number, max: number): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) n = Number(v.trim());
  else return fail(MeterCodes.BAD_CONFIG, `setting ${name} must be an integer ${min}…${max}, got ${JSON.stringify(v)}`);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    fail(MeterCodes.BAD_CONFIG, `setting ${name} is ${n}; it must be an integer ${min}…${max}`);
  }
  return n;
}

export function boolSetting(name: string, v: unknown): boolean {
  if (v === true || v === 'true' || v === 1 || v === '1') return true;
  if (v === false || v === 'false' || v === 0 || v === '0') return false;
  return fail(MeterCodes.BAD_CONFIG, `setting ${name} must be true or false, got ${JSON.stringify(v)}`);
}

export interface MeterConfigInput {
  grid?: unknown;
  fw?: unknown;
  readingPeriodMs?: unknown;
  pulsesPerKWh?: unknown;
  debounceMs?: unknown;
  relayPowerOn?: unknown;
  authorityKey?: unknown;
  persistEveryWh?: unknown;
  persistEveryMs?: unknown;
  outboxMax?: unknown;
  backoff?: Partial<BackoffConfig>;
  keepaliveMs?: unknown;
  connectTimeoutMs?: unknown;
}

/** Defaults filled in, every value checked. Throws E_BAD_CONFIG. */
export function parseMeterConfig(input: MeterConfigInput): MeterConfig {
  const d = DEFAULT_CONFIG;
  const grid = input.grid;
  if (typeof grid !== 'string' || !matches(GRID, grid)) {
    fail(MeterCodes.BAD_CONFIG, `setting grid must be the grid id (1–32 of a–z, 0–9, -), got ${JSON.stringify(grid)}; the installer sets it in manifest.json or as grid=… on the mcconfig command line`);
  }
  const fw = input.fw === undefined ? d.fw : input.fw;
  if (typeof fw !== 'string' || fw.length === 0 || fw.length > 32) fail(MeterCodes.BAD_CONFIG, `setting fw must be 1–32 characters, got ${JSON.stringify(fw)}`);
  const relayPowerOn = input.relayPowerOn === undefined ? d.relayPowerOn : input.relayPowerOn;
  if (relayPowerOn !== 'open' && relayPowerOn !== 'closed') {
    fail(MeterCodes.BAD_CONFIG, `setting relayPowerOn must be "open" or "closed", got ${JSON.stringify(relayPowerOn)}`);
  }
  let authorityKey: string | undefined;
  if (input.authorityKey !== undefined && input.authorityKey !== '' && input.authorityKey !== null) {
    if (typeof input.authorityKey !== 'string') fail(MeterCodes.BAD_CONFIG, 'setting authorityKey must be a base64url P-256 public key');
    try {
      decodePublicKey(input.authorityKey);
    } catch {
      fail(MeterCodes.BAD_CONFIG, `setting authorityKey ${JSON.stringify(input.authorityKey)} is not a P-256 public key (SEC1 compressed, base64url, 44 characters)`);
    }
    authorityKey = input.authorityKey;
  }
  const num = (name: keyof MeterConfigInput & keyof MeterConfig, min: number, max: number): number => {
    const v = input[name];
    return v === undefined ? (d[name as keyof typeof d] as number) : intSetting(name, v, min, max);
  };
  const b = input.backoff ?? {};
  const backoff: BackoffConfig = {
    baseMs: b.baseMs === undefined ? d.backoff.baseMs : intSetting('backoff.baseMs', b.baseMs, 10, 3_600_000),
    capMs: b.capMs === undefined ? d.backoff.capMs : intSetting('backoff.capMs', b.capMs, 10, 86_400_000),
    stableMs: b.stableMs === undefined ? d.backoff.stableMs : intSetting('backoff.stableMs', b.stableMs, 0, 86_400_000),
  };
  if (backoff.capMs < backoff.baseMs) fail(MeterCodes.BAD_CONFIG, `setting backoff.capMs (${backoff.capMs}) must not be below backoff.baseMs (${backoff.baseMs})`);
  return {
    grid,
    fw,
    readingPeriodMs: num('readingPeriodMs', 1000, 86_400_000),
    pulsesPerKWh: num('pulsesPerKWh', 1, 100_000),
    debounceMs: num('debounceMs', 0, 1000),
    relayPowerOn,
    authorityKey,
    persistEveryWh: num('persistEveryWh', 1, 1_000_000),
    persistEveryMs: num('persistEveryMs', 1000, 86_400_000),
    outboxMax: num('outboxMax', 1, 10_000),
    backoff,
    keepaliveMs: num('keepaliveMs', 1000, 3_600_000),
    connectTimeoutMs: num('connectTimeoutMs', 1000, 3_600_000),
  };
}
