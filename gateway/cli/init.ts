import { readFileSync } from 'node:fs';
import { formatHec, formatKWh, parseHec, parseKWh, CLEARING_MECHANISMS, type ClearingMechanism, type Genesis } from '../../protocol/index.ts';
import { initGrid } from '../init.ts';
import { guard, parse, passphrase, UsageError } from './util.ts';

export const help = `
helios init — create a grid: genesis, this gateway's authority key, configuration

Usage: helios init [options]

  --data DIR                 data directory (default ./data); refused if it already holds a grid
  --grid ID                  grid id = chain id, a–z 0–9 - (default "helios")
  --name TEXT                grid name (default "Helios microgrid")
  --block-period MS          Aura slot length (default 5000)
  --market-period MS         delivery period length (default 3600000, one hour)
  --clearing MECH            seed | pay-as-bid | pay-as-clear (default pay-as-clear)
  --price-cap HEC            highest price per kWh any offer, bid or direct purchase may name
                             (default 1: four times the storage's sell price; fixed for the
                             grid's life). The paper's demo, 3 HEC for 317 mWh, needs 10000.
  --storage-capacity KWH     community storage capacity (default 100)
  --storage-buy-price HEC    paid per kWh exported into storage (default 0.08)
  --storage-sell-price HEC   charged per kWh drawn from storage (default 0.25)
  --max-mint HEC             largest single Mint (default: no limit)
  --mode MODE                the utility connection (docs/market.md §9): on-grid (default: the
                             utility sells what the market does not cover and buys surplus
                             nobody bought) or islanded (no utility; imbalance at storage prices)
  --import-tariff HEC        utility price per kWh imported (default 0.30)
  --feed-in-tariff HEC       utility price per kWh fed in (default 0.05; at most the import tariff)
  --time-of-use LIST         a time-of-use schedule: HOUR=IMPORT/FEEDIN,… by UTC hour, e.g.
                             "7=0.30/0.05,17=0.45/0.06,22=0.20/0.04" (hours before the first
                             use --import-tariff/--feed-in-tariff)
  --allowance KWH            on-grid: most energy per meter and period the utility supplies on
                             prepaid credit from the household's balance (default 10)
  --authority-name NAME      this gateway's authority name (default "gateway-1")
  --extra-authority KEY[:NAME]  another authority's public key (repeat; slot order follows)
  --participants FILE        JSON array of {name, email, role, publicKey, allocationHec?} to register at genesis
  --genesis-time T           the chain's start (ms or ISO 8601; default now). A simulation on an
                             accelerated clock that starts in the past needs a genesis before it.
  --http-port N, --mqtt-port N, --mqtt-tls-port N, --mqtt-ws-port N
                             ports written to gateway.json (defaults 8080, 1883, 8883, 8083; "off" disables)
  --free-ports               every port 0: the gateway picks free ones each time it starts (a second
                             grid or a walkthrough on a machine where the defaults are taken; the CLI
                             and "helios meter run" find them in DIR/run/gateway.json)
  --insecure-demo-key        store the authority key UNENCRYPTED (demos only)

The authority key is encrypted with a passphrase from HELIOS_PASSPHRASE, or asked
for on the terminal. The operator secret (for Node-RED and operator CLI commands)
is printed once and written to DIR/operator.secret (mode 0600).
`;

/** Genesis fields a refusal may name, and the flag that sets each. */
const FLAGS: Record<string, string> = {
  'genesis.blockPeriodMs': '--block-period',
  'genesis.marketPeriodMs': '--market-period',
  'genesis.priceCapMicroHecPerKWh': '--price-cap',
  'genesis.storage.capacityMWh': '--storage-capacity',
  'genesis.storage.buyPriceMicroHecPerKWh': '--storage-buy-price',
  'genesis.storage.sellPriceMicroHecPerKWh': '--storage-sell-price',
  'genesis.maxMintMicroHec': '--max-mint',
  'genesis.grid': '--grid',
  'genesis.name': '--name',
  'genesis.t': '--genesis-time',
};

/** A genesis the schema refuses is reported by the flag that made it (the units follow in guard()). */
function withFlagNames<T>(make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof Error) e.message = e.message.replace(/genesis\.[A-Za-z.]+/g, (f) => FLAGS[f] ?? f);
    throw e;
  }
}

function genesisTime(s: string | undefined): number {
  if (s === undefined) return Date.now();
  const t = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (Number.isNaN(t)) throw new UsageError(`--genesis-time must be ms since the epoch or an ISO 8601 time, got ${s}`);
  return t;
}

function portArg(name: string, s: string): number | null {
  if (s === 'off') return null;
  if (!/^\d+$/.test(s) || Number(s) > 65535) throw new UsageError(`--${name} must be a port number or "off"`);
  return Number(s);
}

export function run(argv: string[]): Promise<number> {
  return guard(help, async () => {
    const { values: v } = parse(argv, {
      data: { type: 'string', default: 'data' },
      grid: { type: 'string', default: 'helios' },
      name: { type: 'string', default: 'Helios microgrid' },
      'block-period': { type: 'string', default: '5000' },
      'market-period': { type: 'string', default: '3600000' },
      clearing: { type: 'string', default: 'pay-as-clear' },
      'price-cap': { type: 'string', default: '1' },
      'storage-capacity': { type: 'string', default: '100' },
      'storage-buy-price': { type: 'string', default: '0.08' },
      'storage-sell-price': { type: 'string', default: '0.25' },
      'max-mint': { type: 'string' },
      mode: { type: 'string', default: 'on-grid' },
      'import-tariff': { type: 'string', default: '0.30' },
      'feed-in-tariff': { type: 'string', default: '0.05' },
      'time-of-use': { type: 'string' },
      allowance: { type: 'string', default: '10' },
      'authority-name': { type: 'string', default: 'gateway-1' },
      'extra-authority': { type: 'string', multiple: true, default: [] },
      participants: { type: 'string' },
      'genesis-time': { type: 'string' },
      'http-port': { type: 'string' },
      'mqtt-port': { type: 'string' },
      'mqtt-tls-port': { type: 'string' },
      'mqtt-ws-port': { type: 'string' },
      'insecure-demo-key': { type: 'boolean', default: false },
      'free-ports': { type: 'boolean', default: false },
    });
    if (v['free-ports']) for (const k of ['http-port', 'mqtt-port', 'mqtt-tls-port', 'mqtt-ws-port'] as const) v[k] ??= '0';
    const int = (name: string, s: string) => {
      if (!/^\d+$/.test(s)) throw new UsageError(`--${name} must be a whole number of milliseconds, got ${s}`);
      return Number(s);
    };
    const hec = (name: string, s: string) => {
      try { return parseHec(s); } catch (e) { throw new UsageError(`--${name}: ${(e as Error).message}`); }
    };
    const kwh = (name: string, s: string) => {
      try { return parseKWh(s); } catch (e) { throw new UsageError(`--${name}: ${(e as Error).message}`); }
    };
    if (!(CLEARING_MECHANISMS as readonly string[]).includes(v.clearing!)) {
      throw new UsageError(`--clearing must be one of ${CLEARING_MECHANISMS.join(', ')}`);
    }
    if (v.mode !== 'on-grid' && v.mode !== 'islanded') throw new UsageError(`--mode must be on-grid or islanded, got ${v.mode}`);
    const timeOfUse = v['time-of-use']?.split(',').map((part) => {
      const m = /^(\d{1,2})=([\d.]+)\/([\d.]+)$/.exec(part.trim());
      if (!m || Number(m[1]) > 23) throw new UsageError(`--time-of-use: "${part}" is not HOUR=IMPORT/FEEDIN with an hour 0–23 (e.g. 17=0.45/0.06)`);
      return { fromHourUtc: Number(m[1]), importMicroHecPerKWh: hec('time-of-use', m[2]), feedInMicroHecPerKWh: hec('time-of-use', m[3]) };
    });
    const utility: NonNullable<Genesis['utility']> = {
      mode: v.mode,
      tariff: {
        importMicroHecPerKWh: hec('import-tariff', v['import-tariff']!),
        feedInMicroHecPerKWh: hec('feed-in-tariff', v['feed-in-tariff']!),
        ...(timeOfUse ? { timeOfUse } : {}),
      },
      allowanceMWh: parseKWh(v.allowance!),
    };
    const participants: Genesis['participants'] = [];
    const allocations: Genesis['allocations'] = [];
    if (v.participants) {
      const list = JSON.parse(readFileSync(v.participants, 'utf8')) as Array<{ name: string; email: string; role: 'prosumer' | 'consumer'; publicKey: string; allocationHec?: string }>;
      for (const p of list) {
        participants.push({ name: p.name, email: p.email.toLowerCase(), role: p.role, publicKey: p.publicKey });
        if (p.allocationHec) allocations.push({ to: p.email.toLowerCase(), amountMicroHec: hec('participants allocationHec', String(p.allocationHec)) });
      }
    }
    const priceCap = hec('price-cap', v['price-cap']!);
    if (priceCap <= 0) throw new UsageError('--price-cap must be more than 0 HEC/kWh: at 0 no offer could ask anything for its energy');
    const storageBuy = hec('storage-buy-price', v['storage-buy-price']!);
    const storageSell = hec('storage-sell-price', v['storage-sell-price']!);
    if (storageBuy > storageSell) {
      throw new UsageError(`--storage-buy-price (${v['storage-buy-price']} HEC/kWh) is above --storage-sell-price (${v['storage-sell-price']} HEC/kWh): anyone could buy stored energy and be paid more for exporting it again. Lower the buy price or raise the sell price`);
    }
    const marketPeriodMs = int('market-period', v['market-period']!);
    if (marketPeriodMs % 60_000 !== 0) {
      throw new UsageError(`--market-period must be a whole number of minutes in ms (e.g. 3600000 for an hour, 900000 for 15 minutes), got ${marketPeriodMs}: listings are named by their start minute`);
    }
    const insecure = v['insecure-demo-key']!;
    const pass = insecure ? undefined : await passphrase('HELIOS_PASSPHRASE', 'Passphrase for the authority key: ', true);
    const r = withFlagNames(() => initGrid({
      dataDir: v.data!,
      grid: v.grid!,
      name: v.name!,
      blockPeriodMs: int('block-period', v['block-period']!),
      marketPeriodMs,
      clearing: v.clearing as ClearingMechanism,
      priceCapMicroHecPerKWh: priceCap,
      storage: {
        capacityMWh: kwh('storage-capacity', v['storage-capacity']!),
        buyPriceMicroHecPerKWh: storageBuy,
        sellPriceMicroHecPerKWh: storageSell,
      },
      authorityName: v['authority-name']!,
      extraAuthorities: v['extra-authority']!.map((s, i) => {
        const [publicKey, name] = s.split(':');
        return { publicKey, name: name || `authority-${i + 2}` };
      }),
      participants,
      allocations,
      maxMintMicroHec: v['max-mint'] ? hec('max-mint', v['max-mint']) : undefined,
      utility,
      insecure,
      passphrase: pass,
      t: genesisTime(v['genesis-time']),
      ports: {
        ...(v['http-port'] !== undefined ? { http: portArg('http-port', v['http-port'])! } : {}),
        ...(v['mqtt-port'] !== undefined ? { mqtt: portArg('mqtt-port', v['mqtt-port']) } : {}),
        ...(v['mqtt-tls-port'] !== undefined ? { mqttTls: portArg('mqtt-tls-port', v['mqtt-tls-port']) } : {}),
        ...(v['mqtt-ws-port'] !== undefined ? { mqttWs: portArg('mqtt-ws-port', v['mqtt-ws-port']) } : {}),
      },
    }));
    const out = process.stdout;
    out.write(`Created grid "${r.genesis.grid}" in ${r.paths.dir}\n`);
    out.write(`  genesis        ${r.paths.genesis}\n`);
    out.write(`  authority key  ${r.paths.authorityKey}  (key id ${r.authority.keyId}${insecure ? ', UNENCRYPTED' : ', encrypted'})\n`);
    out.write(`  ledger         ${r.paths.db}\n`);
    const u = r.genesis.utility!;
    out.write(`  grid           ${u.mode}; ${u.mode === 'on-grid' ? 'utility' : 'reference'} tariff: import ${formatHec(u.tariff.importMicroHecPerKWh)}/kWh, feed-in ${formatHec(u.tariff.feedInMicroHecPerKWh)}/kWh${u.tariff.timeOfUse ? ` (time of use from ${u.tariff.timeOfUse.map((h) => `${h.fromHourUtc}:00`).join(', ')} UTC)` : ''}${u.mode === 'on-grid' ? `, allowance ${formatKWh(u.allowanceMWh)} per meter and period` : ''}\n`);
    out.write(`  operator secret (shown once; also in ${r.paths.operatorSecret}):\n    ${r.operatorSecret}\n`);
    if (insecure) {
      process.stderr.write('\n*** WARNING: --insecure-demo-key stores the authority key UNENCRYPTED. Anyone who can read\n*** this directory can sign as the grid authority. Use it for demos only, never for a real grid.\n\n');
    }
    out.write(`Start the gateway with: helios gateway --data ${v.data}\n`);
    return 0;
  });
}
