/**
 * Scenarios for testers: the neighbourhood, the weather, how long to run, which
 * faults to inject and when, and what must come out. A scenario is a JSON file;
 * `helios simulate` without one makes the default neighbourhood (12 households,
 * 5 of them prosumers) from a seed, reproducibly.
 */
import { readFileSync } from 'node:fs';
import { fail, parseHec, parseKWh, type Role } from '../protocol/index.ts';
import { rng } from './random.ts';
import type { HouseholdSpec, Strategy } from './household.ts';
import { LOAD_SHAPES, type LoadShape } from './profiles/load.ts';

export type Fault =
  /** The meter loses its network from `at` for `forMinutes` (simulated), then reconnects. */
  | { kind: 'meter-offline'; household: string; at: string; forMinutes: number }
  /** The gateway (and so its broker) is killed and started again. */
  | { kind: 'broker-restart'; at: string; signal?: 'SIGKILL' | 'SIGTERM' }
  /** The meter's clock jumps ahead by `skewMinutes` at `at`; the gateway's Time must set it right. */
  | { kind: 'clock-skew'; household: string; at: string; skewMinutes: number }
  /** One reading from the meter is altered on its way to the gateway. */
  | { kind: 'tampered-reading'; household: string; at: string }
  /** A credit token signed by someone other than the authority is sent to the meter, and a client tries to publish one. */
  | { kind: 'forged-credit'; household: string; at: string };

export interface Scenario {
  name: string;
  seed: number;
  /** Simulated start, ISO 8601 UTC. */
  start: string;
  durationMinutes: number;
  speed: number;
  site: { latitude: number; longitude: number; utcOffsetHours: number };
  /** 0 clear … 1 overcast. */
  cloudiness: number;
  marketPeriodMinutes: number;
  clearing: 'seed' | 'pay-as-bid' | 'pay-as-clear';
  /** The utility connection (docs/market.md §9), at `helios init`'s default tariffs. */
  grid: 'on-grid' | 'islanded';
  households: HouseholdSpec[];
  faults: Fault[];
  /** Reading period of the meters, simulated seconds. */
  readingPeriodSeconds: number;
}

export interface GenerateOptions {
  households?: number;
  prosumers?: number;
  seed?: number;
  start?: string;
  durationMinutes?: number;
  speed?: number;
  strategy?: Strategy;
  batteries?: boolean;
  clearing?: Scenario['clearing'];
  grid?: Scenario['grid'];
  marketPeriodMinutes?: number;
}

/** The paper's university is in Karachi: the default neighbourhood is there, on a sunny day. */
export const DEFAULT_SITE = { latitude: 24.93, longitude: 67.11, utcOffsetHours: 5 };

const NAMES = ['Zarak', 'Asad', 'Bilal', 'Dana', 'Esha', 'Farah', 'Ghous', 'Hina', 'Imran', 'Javeria', 'Kamran', 'Laila', 'Maha', 'Nadir', 'Omar', 'Parveen', 'Qasim', 'Rubina', 'Saad', 'Tania'];

/** Today at 10:40 local time in Karachi (05:40 UTC): bright sun, and the first listing closes within the hour. */
export function defaultStart(now = Date.now()): string {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 5, 40)).toISOString();
}

export function generate(o: GenerateOptions = {}): Scenario {
  const n = o.households ?? 12;
  const prosumers = Math.min(n, o.prosumers ?? Math.round((n * 5) / 12));
  const seed = o.seed ?? 1;
  const r = rng(seed);
  const shapes = Object.keys(LOAD_SHAPES) as LoadShape[];
  const households: HouseholdSpec[] = [];
  for (let i = 0; i < n; i++) {
    const role: Role = i < prosumers ? 'prosumer' : 'consumer';
    const base = NAMES[i % NAMES.length];
    const name = n <= NAMES.length ? base : `${base} ${Math.floor(i / NAMES.length) + 1}`;
    const kWp = role === 'prosumer' ? 3 + Math.round(r() * 50) / 10 : 0;
    households.push({
      name,
      email: `${name.toLowerCase().replace(/\s+/g, '.')}@example.org`,
      role,
      load: { shape: shapes[Math.floor(r() * shapes.length)], kWhPerYear: 2500 + Math.round(r() * 3500) },
      ...(role === 'prosumer' ? { pv: { kWp, tiltDeg: 15 + Math.round(r() * 15), azimuthDeg: 160 + Math.round(r() * 40) } } : {}),
      ...(o.batteries && role === 'prosumer' && r() < 0.4 ? { battery: { capacityWh: 5000 + Math.round(r() * 5) * 1000, maxPowerW: 2500 } } : {}),
      strategy: o.strategy ?? 'standing',
      // Sellers ask a little above what storage pays; buyers offer a little under what storage charges.
      priceMicroHecPerKWh: role === 'prosumer' ? 100_000 + Math.round(r() * 40) * 1000 : 180_000 + Math.round(r() * 60) * 1000,
      maxPerPeriodMWh: role === 'prosumer' ? Math.round(kWp * 800_000) : 1_500_000,
      initialMicroHec: 50_000_000,
      seed: seed * 1000 + i,
    });
  }
  return {
    name: `generated (${n} households, ${prosumers} prosumers, seed ${seed})`,
    seed,
    start: o.start ?? defaultStart(),
    durationMinutes: o.durationMinutes ?? 180,
    speed: o.speed ?? 60,
    site: DEFAULT_SITE,
    cloudiness: 0.3,
    marketPeriodMinutes: o.marketPeriodMinutes ?? 60,
    clearing: o.clearing ?? 'pay-as-clear',
    grid: o.grid ?? 'on-grid',
    households,
    faults: [],
    readingPeriodSeconds: 60,
  };
}

const SCENARIO_FIELDS = ['name', 'seed', 'start', 'durationMinutes', 'speed', 'households', 'strategy', 'batteries', 'clearing', 'grid', 'marketPeriodMinutes', 'site', 'cloudiness', 'readingPeriodSeconds', 'faults'];
const HOUSEHOLD_FIELDS = ['name', 'email', 'role', 'load', 'pv', 'battery', 'strategy', 'priceHec', 'maxPerPeriodKWh', 'initialHec'];
const FAULT_FIELDS: Record<Fault['kind'], string[]> = {
  'meter-offline': ['household', 'at', 'forMinutes'],
  'broker-restart': ['at', 'signal'],
  'clock-skew': ['household', 'at', 'skewMinutes'],
  'tampered-reading': ['household', 'at'],
  'forged-credit': ['household', 'at'],
};
const STRATEGIES: Strategy[] = ['standing', 'fixed', 'forecast'];
const CLEARINGS: Array<Scenario['clearing']> = ['seed', 'pay-as-bid', 'pay-as-clear'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyFields(where: string, v: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) fail('E_BAD_SCENARIO', `${where}: unknown field "${k}" (allowed: ${allowed.join(', ')})`);
  }
}

function optionalNumber(where: string, v: unknown, min: number, max: number, integer = false): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    fail('E_BAD_SCENARIO', `${where} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`);
  }
  if (v < min || v > max) fail('E_BAD_SCENARIO', `${where} must lie in [${min}, ${max}], got ${v}`);
}

function optionalOneOf(where: string, v: unknown, allowed: readonly string[]): void {
  if (v !== undefined && !allowed.includes(v as string)) fail('E_BAD_SCENARIO', `${where} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}

/** The shape of a scenario file, checked before anything runs: every mistake names its field. */
function checkScenarioFile(raw: unknown): asserts raw is Record<string, unknown> {
  if (!isObject(raw)) fail('E_BAD_SCENARIO', 'a scenario is a JSON object');
  onlyFields('scenario', raw, SCENARIO_FIELDS);
  if (raw.name !== undefined && typeof raw.name !== 'string') fail('E_BAD_SCENARIO', 'name must be a string');
  if (raw.start !== undefined && typeof raw.start !== 'string') fail('E_BAD_SCENARIO', 'start must be an ISO 8601 date-time string');
  optionalNumber('seed', raw.seed, 0, 2 ** 31 - 1, true);
  optionalNumber('durationMinutes', raw.durationMinutes, 1, 60 * 24 * 366, true);
  optionalNumber('speed', raw.speed, 0.001, 100_000);
  optionalNumber('marketPeriodMinutes', raw.marketPeriodMinutes, 1, 24 * 60, true);
  optionalNumber('cloudiness', raw.cloudiness, 0, 1);
  optionalNumber('readingPeriodSeconds', raw.readingPeriodSeconds, 1, 3600, true);
  optionalOneOf('strategy', raw.strategy, STRATEGIES);
  optionalOneOf('clearing', raw.clearing, CLEARINGS);
  optionalOneOf('grid', raw.grid, ['on-grid', 'islanded']);
  if (raw.batteries !== undefined && typeof raw.batteries !== 'boolean') fail('E_BAD_SCENARIO', 'batteries must be true or false');
  if (raw.site !== undefined) {
    if (!isObject(raw.site)) fail('E_BAD_SCENARIO', 'site must be { latitude, longitude, utcOffsetHours }');
    onlyFields('site', raw.site, ['latitude', 'longitude', 'utcOffsetHours']);
    if (raw.site.latitude === undefined || raw.site.longitude === undefined || raw.site.utcOffsetHours === undefined) fail('E_BAD_SCENARIO', 'site needs latitude, longitude and utcOffsetHours');
    optionalNumber('site.latitude', raw.site.latitude, -90, 90);
    optionalNumber('site.longitude', raw.site.longitude, -180, 180);
    optionalNumber('site.utcOffsetHours', raw.site.utcOffsetHours, -12, 14);
  }
  const hh = raw.households;
  if (Array.isArray(hh)) {
    if (hh.length === 0) fail('E_BAD_SCENARIO', 'households is empty: give at least one, or { count, prosumers }');
    hh.forEach((h, i) => {
      if (!isObject(h)) fail('E_BAD_SCENARIO', `households[${i}] must be an object`);
      onlyFields(`households[${i}]`, h, HOUSEHOLD_FIELDS);
      optionalOneOf(`households[${i}].role`, h.role, ['prosumer', 'consumer']);
      optionalOneOf(`households[${i}].strategy`, h.strategy, STRATEGIES);
    });
  } else if (hh !== undefined) {
    if (!isObject(hh)) fail('E_BAD_SCENARIO', 'households must be a list of households or { count, prosumers }');
    onlyFields('households', hh, ['count', 'prosumers']);
    optionalNumber('households.count', hh.count, 1, 100_000, true);
    optionalNumber('households.prosumers', hh.prosumers, 0, typeof hh.count === 'number' ? hh.count : 100_000, true);
  }
  if (raw.faults !== undefined) {
    if (!Array.isArray(raw.faults)) fail('E_BAD_SCENARIO', 'faults must be a list');
    raw.faults.forEach((f, i) => {
      if (!isObject(f)) fail('E_BAD_SCENARIO', `faults[${i}] must be an object`);
      const kinds = Object.keys(FAULT_FIELDS);
      if (!kinds.includes(f.kind as string)) fail('E_BAD_SCENARIO', `faults[${i}].kind must be one of ${kinds.join(', ')}, got ${JSON.stringify(f.kind)}`);
      const fields = FAULT_FIELDS[f.kind as Fault['kind']];
      onlyFields(`faults[${i}] (${String(f.kind)})`, f, ['kind', ...fields]);
      for (const k of fields) {
        if (f[k] === undefined && k !== 'signal') fail('E_BAD_SCENARIO', `faults[${i}] (${String(f.kind)}) needs "${k}"`);
      }
      optionalNumber(`faults[${i}].forMinutes`, f.forMinutes, 1, 60 * 24 * 366, true);
      optionalNumber(`faults[${i}].skewMinutes`, f.skewMinutes, -60 * 24, 60 * 24, true);
      optionalOneOf(`faults[${i}].signal`, f.signal, ['SIGKILL', 'SIGTERM']);
    });
  }
}

/**
 * Read a scenario file: any field left out takes the generated default. Households
 * may be given in full, or as { count, prosumers } to generate them. A file with an
 * unknown field, a wrong type or a value out of range is refused (E_BAD_SCENARIO)
 * before anything starts, with the field named.
 */
export function loadScenario(path: string, overrides: GenerateOptions = {}): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return fail('E_BAD_SCENARIO', `cannot read scenario ${path}: ${(e as Error).message}`);
  }
  checkScenarioFile(raw);
  return scenarioFrom(raw, path, overrides);
}

/** A scenario from a parsed file (already checked), with the generated defaults filled in. */
export function scenarioFrom(raw: Record<string, unknown>, path: string, overrides: GenerateOptions = {}): Scenario {
  const hh = raw.households as { count?: number; prosumers?: number } | Array<Record<string, unknown>> | undefined;
  const gen = generate({
    seed: (raw.seed as number) ?? overrides.seed,
    households: Array.isArray(hh) ? hh.length : hh?.count ?? overrides.households,
    prosumers: Array.isArray(hh) ? hh.filter((h) => h.role === 'prosumer').length : hh?.prosumers ?? overrides.prosumers,
    start: (raw.start as string) ?? overrides.start,
    durationMinutes: (raw.durationMinutes as number) ?? overrides.durationMinutes,
    speed: (raw.speed as number) ?? overrides.speed,
    strategy: (raw.strategy as Strategy) ?? overrides.strategy,
    batteries: (raw.batteries as boolean) ?? overrides.batteries,
    clearing: (raw.clearing as Scenario['clearing']) ?? overrides.clearing,
    grid: (raw.grid as Scenario['grid']) ?? overrides.grid,
    marketPeriodMinutes: (raw.marketPeriodMinutes as number) ?? overrides.marketPeriodMinutes,
  });
  const s: Scenario = {
    ...gen,
    name: (raw.name as string) ?? path,
    ...(raw.site ? { site: raw.site as Scenario['site'] } : {}),
    ...(raw.cloudiness !== undefined ? { cloudiness: raw.cloudiness as number } : {}),
    ...(raw.readingPeriodSeconds !== undefined ? { readingPeriodSeconds: raw.readingPeriodSeconds as number } : {}),
    faults: (raw.faults as Fault[]) ?? [],
  };
  if (Array.isArray(hh)) {
    s.households = hh.map((h, i) => {
      const g = gen.households[i];
      const role = (h.role as Role) ?? g.role;
      return {
        ...g,
        name: (h.name as string) ?? g.name,
        email: ((h.email as string) ?? g.email).toLowerCase(),
        role,
        load: { ...g.load, ...(h.load as object) },
        pv: role === 'prosumer' ? { ...(g.pv ?? { kWp: 4, tiltDeg: 20, azimuthDeg: 180 }), ...(h.pv as object) } : undefined,
        ...(h.battery ? { battery: h.battery as HouseholdSpec['battery'] } : {}),
        strategy: (h.strategy as Strategy) ?? g.strategy,
        priceMicroHecPerKWh: h.priceHec !== undefined ? parseHec(String(h.priceHec)) : g.priceMicroHecPerKWh,
        maxPerPeriodMWh: h.maxPerPeriodKWh !== undefined ? parseKWh(String(h.maxPerPeriodKWh)) : g.maxPerPeriodMWh,
        initialMicroHec: h.initialHec !== undefined ? parseHec(String(h.initialHec)) : g.initialMicroHec,
      };
    });
  }
  checkScenario(s);
  return s;
}

export function checkScenario(s: Scenario): void {
  if (!CLEARINGS.includes(s.clearing)) fail('E_BAD_SCENARIO', `clearing must be one of ${CLEARINGS.join(', ')}, got ${JSON.stringify(s.clearing)}`);
  for (const h of s.households) {
    if (!STRATEGIES.includes(h.strategy)) fail('E_BAD_SCENARIO', `${h.name}: strategy must be one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(h.strategy)}`);
  }
  if (s.households.length === 0) fail('E_BAD_SCENARIO', 'a scenario needs at least one household');
  const names = new Set(s.households.map((h) => h.name));
  const emails = new Set<string>();
  for (const h of s.households) {
    if (emails.has(h.email)) fail('E_BAD_SCENARIO', `two households have the email ${h.email}`);
    emails.add(h.email);
  }
  if (!(s.speed > 0)) fail('E_BAD_SCENARIO', 'speed must be a positive number');
  if (Number.isNaN(Date.parse(s.start))) fail('E_BAD_SCENARIO', `start ${JSON.stringify(s.start)} is not an ISO date-time`);
  const end = Date.parse(s.start) + s.durationMinutes * 60_000;
  for (const [i, f] of s.faults.entries()) {
    if ('household' in f && !names.has(f.household)) fail('E_BAD_SCENARIO', `faults[${i}] names household "${f.household}", which is not in the scenario (${[...names].join(', ')})`);
    const at = Date.parse(f.at);
    if (Number.isNaN(at)) fail('E_BAD_SCENARIO', `faults[${i}].at ${JSON.stringify(f.at)} is not an ISO date-time`);
    if (at < Date.parse(s.start) || at >= end) fail('E_BAD_SCENARIO', `faults[${i}] at ${f.at} is outside the run (${s.start} + ${s.durationMinutes} min)`);
  }
}
