/**
 * A simulation: a grid and its gateway, N households with wallets and meters
 * running the real firmware core on the node platform over real MQTT, trading
 * through the market, faults injected on schedule — then invariants and expected
 * outcomes checked against the ledger.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import {
  anchoredClock, canonicalize, formatHec, formatKWh, generateKeyPair, paymentMicroHec, systemClock, toBase64url, topics, utf8Encode,
  type Clock, type KeyPair, type TradesMessage, type TxBody,
} from '../protocol/index.ts';
import { createNodeMeter, opensslSigner, PacketMqttTransport, type NodeMeter } from '../firmware/platform/node/index.ts';
import { CounterTotals, GatewayClient, pool } from './client.ts';
import { FaultyTransport, forgedCreditToken, SkewableClock } from './faults.ts';
import { createGrid, freePort, GatewayProcess, type ClockSpec } from './gatewayProcess.ts';
import { FlowsProcess, makeFlowsEnv } from '../flows/process.ts';
import { HouseholdModel, type HouseholdSpec } from './household.ts';
import { rng } from './random.ts';
import type { Fault, Scenario } from './scenario.ts';

export interface SimulationOptions {
  scenario: Scenario;
  /** Where the grid lives; default a new temporary directory. */
  dataDir?: string;
  /** Write per-period results here. */
  csv?: string;
  /** 'bar': a progress bar on stderr; 'live': the demo's live view; 'none'. */
  view?: 'bar' | 'live' | 'none';
  /** Stop early (Ctrl-C in the demo). */
  signal?: AbortSignal;
  /** Run until stopped instead of for scenario.durationMinutes. */
  forever?: boolean;
  /** Lines for the user (default stdout). */
  print?: (s: string) => void;
  gatewayLogLevel?: string;
  /** Also run the Node-RED flows (broadcasts and dashboards) against the grid, on this port (0: a free one). */
  flowsPort?: number;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SimulationResult {
  ok: boolean;
  dataDir: string;
  checks: Check[];
  summary: string;
  periods: PeriodRow[];
  /** The grid connection's figures (docs/simulator.md, "Unmet load and the utility"). */
  grid: GridFigures;
  rejected: Record<string, number>;
  stats: {
    readings: number; trades: number; tradedMWh: number; meters: number; simMinutes: number; realSeconds: number; rssMiB: number; cpuSeconds: number;
    /** The running phase only (meters started → stopped): real seconds, readings stored, simulator CPU seconds, peak RSS. */
    run: { seconds: number; readings: number; cpuSeconds: number; peakRssMiB: number; setupSeconds: number; gatewayCpuSeconds: number; gatewayPeakRssMiB: number; gatewayPeakHeapMiB: number; secondHalfReadingsPerSec: number };
  };
}

export interface PeriodRow {
  listing: string;
  state: string;
  offers: number;
  bids: number;
  offeredMWh: number;
  bidMWh: number;
  trades: number;
  tradedMWh: number;
  clearingPriceMicroHecPerKWh: number | null;
  soldMWh: number | null;
  deliveredMWh: number | null;
  paidToSellersMicroHec: number | null;
  refundedMicroHec: number | null;
  storageCreditMicroHec: number | null;
}

export interface HouseholdFigures {
  name: string;
  role: string;
  /** Energy its load wanted while its relay was open, from the first delivery period on. */
  unmetMWh: number;
  unmetHours: number;
  balanceMicroHec: number;
  /** Tokens it spent on energy over the run (initial − balance − escrow): negative when it earned. */
  billMicroHec: number;
  /** What the same metered energy would have cost buying from (and selling to) the utility alone. */
  utilityOnlyMicroHec: number;
}

export interface GridFigures {
  mode: 'on-grid' | 'islanded';
  unmetMWh: number;
  unmetHouseholdHours: number;
  /** Energy the utility supplied and bought, as the settled listings billed it. */
  utilityImportMWh: number;
  utilityExportMWh: number;
  /** Metered import of all households over the billed window, and of it what neighbours delivered. */
  importMWh: number;
  p2pMWh: number;
  /** Delivery periods the run left unsettled (their energy is not billed). */
  unsettled: number;
  households: HouseholdFigures[];
}

interface Household {
  spec: HouseholdSpec;
  model: HouseholdModel;
  wallet: KeyPair;
  sign: (message: Uint8Array) => Uint8Array;
  nonce: number;
  node: NodeMeter;
  transport: FaultyTransport;
  clock: SkewableClock;
}

interface ListingView {
  id: string;
  state: string;
  deliveryStart: number;
  closesAt: number;
  opened?: { t: number };
  offers: number;
  bids: number;
  offeredMWh: number;
  bidMWh: number;
  trades?: unknown;
  tradedMWh?: number;
  clearingPriceMicroHecPerKWh?: number;
  settlement?: { totals: Record<string, number> };
}

/** Deterministic key material for a simulated wallet (never for a real one). */
function seededEntropy(seed: number): (n: number) => Uint8Array {
  const r = rng(seed);
  return (n) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

export async function simulate(o: SimulationOptions): Promise<SimulationResult> {
  const started: Started = {};
  try {
    return await run(o, started);
  } catch (e) {
    // Never leave a gateway running behind a failed run; say so if it was the gateway that died.
    started.stopMeters?.();
    started.observer?.end(true);
    await started.flows?.stop().catch(() => undefined);
    const gw = started.gw;
    const died = gw?.died;
    await gw?.stop('SIGTERM').catch(() => undefined);
    if (died) throw new Error(`${(e as Error).message}\n${died}; its last output:\n${gw!.log.slice(-4000)}`, { cause: e });
    throw e;
  }
}

/** What a run has started, so that a failed run can stop it. */
interface Started {
  gw?: GatewayProcess;
  flows?: FlowsProcess;
  stopMeters?: () => void;
  observer?: MqttClient;
}

async function run(o: SimulationOptions, started: Started): Promise<SimulationResult> {
  const s = o.scenario;
  const print = o.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const realStart = Date.now();
  const cpuStart = process.cpuUsage();
  const dataDir = resolve(o.dataDir ?? mkdtempSync(join(tmpdir(), 'helios-sim-')));
  mkdirSync(dataDir, { recursive: true });
  const simStart = Date.parse(s.start);
  const P = s.marketPeriodMinutes * 60_000;
  const spec: ClockSpec = { speed: s.speed, start: simStart, anchor: Date.now() };
  const clock: Clock = anchoredClock(systemClock(), spec.speed, spec.start, spec.anchor);
  const grid = `sim-${s.seed}`;

  // 1. The grid and its gateway.
  // Blocks no more often than every 150 real ms: a fast clock (a simulated day in a minute) would otherwise ask
  // hundreds a second, and a busy machine would deliver credit tokens after the periods they are for.
  const ports = await createGrid({ dir: dataDir, grid, genesisTime: simStart - 3_600_000, marketPeriodMs: P, blockPeriodMs: Math.max(1000, Math.round(P / 720), Math.round(s.speed * 150)), clearing: s.clearing, mode: s.grid });
  const gw = new GatewayProcess(dataDir, spec, o.gatewayLogLevel ?? 'error');
  started.gw = gw;
  const secret = readFileSync(join(dataDir, 'operator.secret'), 'utf8').trim();
  // Node-RED starts beside the gateway, on the grid's fixed ports, so its flows send the first broadcasts.
  let flowsStarted: Promise<void> | undefined;
  if (o.flowsPort !== undefined) {
    const flows = new FlowsProcess({
      env: makeFlowsEnv({
        grid, mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`, apiUrl: `http://127.0.0.1:${ports.http}`, operatorSecret: secret, marketPeriodMs: P,
        userDir: join(dataDir, 'flows'), port: o.flowsPort || (await freePort()),
      }),
    });
    started.flows = flows;
    flowsStarted = flows.start();
  }
  await gw.start();
  await flowsStarted;
  const api = new GatewayClient(gw.url, secret);
  const genesis = await api.get<{ authorities: Array<{ publicKey: string }>; grid: string }>('/api/genesis');
  // What the market broadcasts, heard from the start as the operator's dashboard would (to check against the
  // ledger at the end): on a fast clock listings already close while the neighbourhood is being set up.
  const heard: TradesMessage[] = [];
  const observer: MqttClient = mqtt.connect(gw.mqttUrl, { clientId: `sim-observer-${s.seed}`, username: 'operator', password: secret, reconnectPeriod: 500 });
  const subscribed = new Promise<void>((res) => {
    observer.on('connect', () => observer.subscribe([topics.trades(grid)], () => res()));
    setTimeout(res, 5000);
  });
  observer.on('message', (_t, payload) => {
    try { heard.push(JSON.parse(payload.toString()) as TradesMessage); } catch { /* counted by the gateway */ }
  });
  started.observer = observer;
  await subscribed;

  // The meters' clocks run at the simulation's speed, but TCP and the gateway do not:
  // their connect timeout and reconnect backoff are set so that in real time they wait
  // what a real meter waits (30 s for a CONNACK, 1 s to 60 s between tries). Timed in
  // simulated minutes, 10,000 meters at ×60 would give up on a busy gateway within
  // half a second and storm it with new connections.
  const simMs = (realMs: number) => Math.round(realMs * s.speed);
  const baseMs = Math.min(3_600_000, Math.max(10, simMs(1000)));
  const networkTimers = {
    connectTimeoutMs: Math.min(3_600_000, Math.max(1000, simMs(30_000))),
    backoff: { baseMs, capMs: Math.min(86_400_000, Math.max(baseMs, simMs(60_000))), stableMs: Math.min(86_400_000, simMs(30_000)) },
  };

  // 2. Households: wallets, registration and top-up, through the operator's API.
  let minted = 0;
  const households: Household[] = [];
  for (const h of s.households) {
    const wallet = generateKeyPair(seededEntropy(h.seed));
    const model = new HouseholdModel(h, s.site, { cloudiness: s.cloudiness, seed: s.seed });
    const skew = new SkewableClock(clock);
    const transport = new FaultyTransport(new PacketMqttTransport({ url: gw.mqttUrl }));
    const node = createNodeMeter({
      grid, brokerUrl: gw.mqttUrl, clock: skew, transport, signer: 'openssl', entropy: seededEntropy(h.seed + 500_000),
      power: (t: number) => model.netW(t), powerStepMs: 60_000,
      config: { readingPeriodMs: s.readingPeriodSeconds * 1000, relayPowerOn: 'open', authorityKey: genesis.authorities[0].publicKey, ...networkTimers },
    });
    households.push({ spec: h, model, wallet, sign: opensslSigner(wallet), nonce: 0, node, transport, clock: skew });
  }
  const storageFund = 100_000_000 + households.length * 2_000_000;
  // The operator's batch API, as an operator registering a whole neighbourhood from a list would.
  await api.authorityBatch(households.map((h) => ({ type: 'RegisterParticipant', name: h.spec.name, email: h.spec.email, role: h.spec.role, publicKey: h.wallet.publicKey })));
  await api.settle();
  await api.authorityBatch([
    ...households.map((h) => ({ type: 'Mint', to: h.spec.email, amountMicroHec: h.spec.initialMicroHec, memo: 'simulation start' })),
    // 3. Meters enrolled the way an installer does; a prosumer's export meter drives no relay.
    ...households.map((h) => ({
      type: 'EnrollMeter', meter: h.node.meter.meterId, publicKey: h.node.meter.publicKey, participant: h.spec.email,
      installer: 'simulator', location: `${h.spec.name}'s house`, pulsesPerKWh: 1000, relay: h.spec.role === 'consumer',
    })),
    { type: 'Mint', to: 'storage', amountMicroHec: storageFund, memo: 'community storage fund' },
  ]);
  minted += households.reduce((a, h) => a + h.spec.initialMicroHec, 0) + storageFund;
  await api.settle();
  for (const h of households) h.node.start();
  started.stopMeters = () => { for (const h of households) h.node.stop(); };
  // The clock ran through the setup: the meters measure from here, and the run lasts its duration from here.
  const metered = { from: clock.now(), to: clock.now() };
  const runStart = { t: Date.now(), cpu: process.cpuUsage(), readings: -1, gatewayCpu: gw.usage()?.cpuSeconds ?? 0 };
  const trace = (what: string) => { if (process.env.HELIOS_SIM_TRACE) process.stderr.write(`[sim +${((Date.now() - runStart.t) / 1000).toFixed(1)} s] ${what}\n`); };
  let peakRss = process.memoryUsage().rss;
  let peakGatewayHeap = 0;
  /** [real ms, readings stored so far], once a second: the rate once every meter is connected. */
  const accepted: Array<[number, number]> = [];

  // 4. Trading: standing orders are signed once; the other strategies sign an offer or bid each period.
  const signTx = (h: Household, fields: Record<string, unknown>) => {
    h.nonce++;
    const body = { ...fields, grid, signer: h.wallet.keyId, nonce: h.nonce, t: clock.now() } as TxBody;
    const text = canonicalize(body);
    return `{"body":${text},"sig":"${toBase64url(h.sign(utf8Encode(text)))}"}`;
  };
  const strategyOf = (h: Household) => h.spec.strategy;
  const standing = households.filter((h) => strategyOf(h) === 'standing');
  const orders = await api.submitBatch(standing.map((h) => signTx(h, {
    type: 'StandingOrder', side: h.spec.role === 'prosumer' ? 'sell' : 'buy', meter: h.node.meter.meterId,
    energyMWh: h.spec.maxPerPeriodMWh, priceMicroHecPerKWh: h.spec.priceMicroHecPerKWh,
  })));
  trace('standing orders placed');
  const refusedOrder = orders.find((r) => r.status === 'rejected');
  if (refusedOrder) throw new Error(`a standing order was refused: ${refusedOrder.code} ${refusedOrder.message}`);
  const placed = new Set<string>();
  let billedFrom = Number.MAX_SAFE_INTEGER;
  const tradePerPeriod = async (l: ListingView) => {
    if (l.state !== 'ACCEPT_OFFERS' || placed.has(l.id) || clock.now() >= l.closesAt) return;
    // The first listing opened before any standing order existed, and a new meter has no
    // history to forecast from: like new households, everyone offers or bids by hand once.
    const first = placed.size === 0;
    placed.add(l.id);
    // Unmet load counts from the first delivery period whose listing opened after the meters started:
    // before it no credit of any kind could have been arranged in time.
    if (first) {
      billedFrom = l.deliveryStart + ((l.opened?.t ?? 0) < metered.from ? P : 0);
      for (const h of households) h.node.household?.countUnmetFrom(billedFrom);
    }
    // The neighbourhood's forecast surplus for the period: PV minus load, from the same models the meters run on.
    const mid = l.deliveryStart + P / 2;
    let surplusW = 0;
    let pvW = 0;
    for (const h of households) {
      pvW += h.model.pvW(mid);
      surplusW += h.model.pvW(mid) - h.model.loadW(mid);
    }
    const plenty = pvW > 0 ? Math.max(0, Math.min(1, surplusW / pvW)) : 0;
    const signers: Household[] = [];
    const txs: string[] = [];
    for (const h of households.filter((x) => first || strategyOf(x) !== 'standing')) {
      // 'forecast': prices fall as the neighbourhood's surplus grows, by up to 40 %.
      const price = strategyOf(h) === 'forecast' ? Math.round(h.spec.priceMicroHecPerKWh * (1 - 0.4 * plenty)) : h.spec.priceMicroHecPerKWh;
      const meter = h.node.meter.meterId;
      if (h.spec.role === 'prosumer') {
        const expected = Math.max(0, Math.round(((h.model.pvW(mid) - h.model.loadW(mid)) * P) / 3_600_000 * 1000 * 0.8));
        const energy = Math.min(h.spec.maxPerPeriodMWh, expected);
        if (energy <= 0) continue;
        txs.push(signTx(h, { type: 'PVOffer', listing: l.id, meter, energyMWh: energy, reservePriceMicroHecPerKWh: price }));
      } else {
        txs.push(signTx(h, { type: 'BuyOffer', listing: l.id, meter, energyMWh: h.spec.maxPerPeriodMWh, bidPriceMicroHecPerKWh: price }));
      }
      signers.push(h);
    }
    // A refused offer (too late, a balance too small for the bid) did not use up its nonce.
    const results = await api.submitBatch(txs).catch(() => txs.map(() => ({ status: 'rejected' as const })));
    results.forEach((r, i) => { if (r.status === 'rejected') signers[i].nonce--; });
  };

  let lastListing: ListingView | undefined;

  // 6. Faults, on the simulation clock.
  const outcomes: Check[] = [];
  const faultLog: string[] = [];
  const byName = new Map(households.map((h) => [h.spec.name, h]));
  const ackedBeforeRestart = new Map<string, number[]>();
  const faultState = { futureBefore: 0, badSigBefore: 0, notAuthBefore: 0 };
  const at = (iso: string, fn: () => void | Promise<void>) => clock.setTimeout(() => { void Promise.resolve(fn()).catch((e: Error) => faultLog.push(`fault failed: ${e.message}`)); }, Date.parse(iso) - clock.now());
  const totals = new CounterTotals();
  const counters0 = await api.counters();
  totals.observe(counters0);
  trace('first counters read');
  faultState.futureBefore = totals.get('helios_readings_rejected_total:E_FUTURE_TIMESTAMP');
  faultState.badSigBefore = totals.get('helios_readings_rejected_total:E_BAD_SIGNATURE');
  faultState.notAuthBefore = totals.get('helios_mqtt_refused_total:E_NOT_AUTHORIZED');
  for (const f of s.faults) scheduleFault(f);

  function scheduleFault(f: Fault): void {
    const h = 'household' in f ? byName.get(f.household)! : undefined;
    switch (f.kind) {
      case 'meter-offline':
        at(f.at, () => { h!.transport.setNetwork(false); faultLog.push(`${f.at} ${h!.spec.name}'s meter offline for ${f.forMinutes} min`); });
        at(new Date(Date.parse(f.at) + f.forMinutes * 60_000).toISOString(), () => { h!.transport.setNetwork(true); h!.node.meter.networkUp(); });
        break;
      case 'broker-restart':
        at(f.at, async () => {
          // What the gateway has stored (so acknowledged, or about to be) just before it dies.
          totals.observe(await api.counters());
          await pool(households, 16, async (x) => {
            const rows = await api.get<Array<{ seq: number }>>(`/api/meters/${x.node.meter.meterId}/readings?limit=10000`);
            ackedBeforeRestart.set(x.node.meter.meterId, rows.map((r) => r.seq));
          });
          faultLog.push(`${f.at} gateway killed (${f.signal ?? 'SIGKILL'}) and restarted`);
          await gw.restart(f.signal ?? 'SIGKILL');
          api.base = gw.url;
        });
        break;
      case 'clock-skew':
        at(f.at, () => { h!.clock.skewMs = f.skewMinutes * 60_000; faultLog.push(`${f.at} ${h!.spec.name}'s meter clock jumped ${f.skewMinutes} min ahead`); });
        break;
      case 'tampered-reading':
        at(f.at, () => { h!.transport.tamperNextReading(); faultLog.push(`${f.at} a reading of ${h!.spec.name}'s meter altered on the wire`); });
        break;
      case 'forged-credit':
        at(f.at, async () => {
          const before = h!.node.meter.snapshot();
          const delivered = h!.transport.inject(topics.meter(grid, h!.node.meter.meterId, 'credit'), forgedCreditToken(grid, h!.node.meter.meterId, clock.now()));
          const after = h!.node.meter.snapshot();
          const refusals = (after.errors.E_CREDIT_BAD_ISSUER ?? 0) - (before.errors.E_CREDIT_BAD_ISSUER ?? 0);
          outcomes.push({
            name: `forged credit token refused by ${h!.spec.name}'s meter`,
            // Her own credit may be drawing down meanwhile; the forged token must add nothing to it.
            ok: delivered && refusals === 1 && after.creditMWh <= before.creditMWh && after.tokens === before.tokens,
            detail: delivered ? `E_CREDIT_BAD_ISSUER +${refusals}; tokens held ${before.tokens} → ${after.tokens}; credit ${before.creditMWh} → ${after.creditMWh} mWh (not +10,000,000)` : 'the meter was not connected to receive it',
          });
          // And a household trying to publish a token to its own meter through the broker is refused there.
          const client = `forger-${h!.wallet.keyId}`;
          const token = canonicalize(loginBody(grid, h!.wallet.keyId, client, clock.now()));
          const household = mqtt.connect(gw.mqttUrl, {
            clientId: client, username: h!.wallet.keyId, reconnectPeriod: 0,
            password: `{"body":${token},"sig":"${toBase64url(h!.sign(utf8Encode(token)))}"}`,
          });
          await new Promise<void>((res) => { household.once('connect', () => res()); household.once('error', () => res()); setTimeout(res, 5000); });
          totals.observe(await api.counters());
          const refusedBefore = totals.get('helios_mqtt_refused_total:E_NOT_AUTHORIZED');
          household.publish(topics.meter(grid, h!.node.meter.meterId, 'credit'), forgedCreditToken(grid, h!.node.meter.meterId, clock.now()));
          await new Promise((res) => setTimeout(res, 500));
          household.end(true);
          totals.observe(await api.counters());
          const refusedAfter = totals.get('helios_mqtt_refused_total:E_NOT_AUTHORIZED');
          outcomes.push({ name: 'a household publishing a credit token is refused by the broker', ok: refusedAfter > refusedBefore, detail: `E_NOT_AUTHORIZED ${refusedBefore} → ${refusedAfter}` });
          faultLog.push(`${f.at} forged credit token sent to ${h!.spec.name}'s meter`);
        });
        break;
    }
  }

  // 7. Run: progress, per-period trading, until the end (or Ctrl-C).
  const endSim = Math.max(simStart, metered.from) + s.durationMinutes * 60_000;
  const view = o.view ?? 'bar';
  let lastReadings = 0;
  let lastTick = Date.now();
  let readingsPerSec = 0;
  let counters = counters0;
  for (;;) {
    if (o.signal?.aborted) break;
    if (!o.forever && clock.now() >= endSim) break;
    await new Promise((r) => setTimeout(r, 1000));
    try {
      counters = await api.counters();
      totals.observe(counters);
      const acc = totals.get('helios_readings_accepted_total');
      if (runStart.readings < 0) runStart.readings = acc;
      accepted.push([Date.now(), acc]);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      // A gauge, read raw (CounterTotals is for counters that a restart resets).
      peakGatewayHeap = Math.max(peakGatewayHeap, counters.get('helios_process_nodejs_heap_size_used_bytes') ?? 0);
      readingsPerSec = ((acc - lastReadings) * 1000) / Math.max(1, Date.now() - lastTick);
      lastReadings = acc;
      lastTick = Date.now();
      lastListing = await api.get<ListingView>('/api/market/listings/current?view=summary').catch(() => undefined);
      if (lastListing) void tradePerPeriod(lastListing).catch(() => undefined);
    } catch {
      continue; // the gateway is restarting
    }
    const trades = heard.reduce((n, m) => n + m.trades.length, 0);
    if (view === 'bar') drawBar(clock.now(), metered.from, endSim, readingsPerSec, trades, households.length, faultLog.length);
    if (view === 'live') print(await liveView(api, gw, clock, households, lastListing, s.speed, started.flows?.url));
  }
  if (view === 'bar' && process.stderr.isTTY) process.stderr.write('\n');
  trace(`run loop ended after ${accepted.length} samples`);

  // 8. Wind down: meters stop (their last readings flush), the chain commits what is left.
  totals.observe(await api.counters().catch(() => new Map<string, number>()));
  const runStats = {
    seconds: (Date.now() - runStart.t) / 1000,
    readings: totals.get('helios_readings_accepted_total') - Math.max(0, runStart.readings),
    cpuSeconds: (() => { const c = process.cpuUsage(runStart.cpu); return (c.user + c.system) / 1e6; })(),
    peakRssMiB: Math.round(Math.max(peakRss, process.memoryUsage().rss) / 1048576),
    setupSeconds: (runStart.t - realStart) / 1000,
    gatewayCpuSeconds: (gw.usage()?.cpuSeconds ?? 0) - runStart.gatewayCpu,
    gatewayPeakRssMiB: gw.usage()?.peakRssMiB ?? 0,
    gatewayPeakHeapMiB: Math.round(peakGatewayHeap / 1048576),
    secondHalfReadingsPerSec: (() => {
      const [t1, a1] = accepted[accepted.length - 1] ?? [0, 0];
      const [t0, a0] = accepted.find(([t]) => t >= runStart.t + (t1 - runStart.t) / 2) ?? [t1, a1];
      return t1 > t0 ? ((a1 - a0) * 1000) / (t1 - t0) : 0;
    })(),
  };
  metered.to = clock.now();
  for (const h of households) h.node.stop();
  await new Promise((r) => setTimeout(r, 1500));
  // Every period the meters measured is billed once its listing settles (at the latest a quarter period after it):
  // wait for that when it takes at most 15 real seconds, so bills cover the whole run — still listening to the
  // trades broadcast. (On a slower clock the summary says how many periods are not billed yet.)
  if (!o.forever && (P * 1.5) / s.speed <= 15_000) {
    const until = Date.now() + (P * 1.5) / s.speed;
    while (Date.now() < until && (await unsettledBefore(api, metered.to).catch(() => 1)) > 0) await new Promise((r) => setTimeout(r, 250));
  }
  // Trades of a close committed from here on may still be on their way: the check compares the closes before it.
  const heardUntil = clock.now();
  await new Promise((r) => setTimeout(r, 500));
  observer.end(true);
  const result = await report(o, s, api, gw, households, heard, minted, outcomes, faultLog, ackedBeforeRestart, faultState, dataDir, realStart, cpuStart, totals, { ...metered, billedFrom, heardUntil });
  await started.flows?.stop();
  await gw.stop('SIGTERM');
  const v = gw.verify();
  result.stats.run = runStats;
  result.checks.push({ name: 'helios ledger verify replays the whole chain', ok: v.ok, detail: v.output.split('\n').slice(-1)[0] ?? '' });
  result.ok = result.checks.every((c) => c.ok);
  return result;
}

/** Listings whose delivery began before `t` and that are not settled yet. */
async function unsettledBefore(api: GatewayClient, t: number): Promise<number> {
  const hist = await api.get<Array<{ state: string; deliveryStart: number }>>('/api/market/history?limit=1000');
  return hist.filter((l) => l.deliveryStart < t && l.state !== 'SETTLED').length;
}

function loginBody(grid: string, id: string, client: string, now: number) {
  return { type: 'Login', grid, id, client, iat: now, exp: now + 600_000 };
}

function drawBar(now: number, start: number, end: number, rps: number, trades: number, meters: number, faults: number): void {
  const frac = Math.max(0, Math.min(1, (now - start) / (end - start)));
  const width = 28;
  const filled = Math.round(frac * width);
  const line = `simulate [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.round(frac * 100)).padStart(3)}%  ${new Date(now).toISOString().slice(0, 16).replace('T', ' ')} UTC  ${meters} meters  ${Math.round(rps)} readings/s  ${trades} trades${faults ? `  ${faults} faults` : ''}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}   `);
  else if (Math.round(frac * 100) % 10 === 0) process.stderr.write(line + '\n');
}

async function liveView(api: GatewayClient, gw: GatewayProcess, clock: Clock, households: Household[], l: ListingView | undefined, speed: number, dashboard?: string): Promise<string> {
  const parts = await api.get<Array<{ email: string; balanceMicroHec: number; escrowMicroHec: number }>>('/api/participants').catch(() => []);
  const storage = await api.get<{ storedMWh: number; capacityMWh: number }>('/api/storage').catch(() => undefined);
  const hist = await api.get<Array<{ id: string; tradedMWh?: number; trades?: number; clearingPriceMicroHecPerKWh?: number; state: string }>>('/api/market/history?limit=6').catch(() => []);
  const utility = await api.get<UtilityView>('/api/utility').catch(() => undefined);
  const unmet = households.reduce((a, h) => a + (h.node.household?.unmet(clock.now()).energyMWh ?? 0), 0);
  const lastCleared = hist.find((x) => x.clearingPriceMicroHecPerKWh !== undefined);
  const bal = new Map(parts.map((p) => [p.email, p]));
  const t = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  const lines = [
    `\x1b[2J\x1b[H☀  Helios demo — simulated ${new Date(clock.now()).toISOString().slice(0, 16).replace('T', ' ')} UTC (×${speed}, one market hour per real minute)`,
    `   HTTP API ${gw.url}   MQTT ${gw.mqttUrl}   (try: curl ${gw.url}/api/market/listings/current)`,
    ...(dashboard ? [`   Dashboards ${dashboard}/dashboard/market  (household: …/dashboard/wallet, then …/household; operator: …/dashboard/operator)`] : []),
    '',
    l ? `Market   listing ${l.id}  ${l.state.padEnd(14)} offers ${l.offers} (${formatKWh(l.offeredMWh)})  bids ${l.bids} (${formatKWh(l.bidMWh)})  bidding closes ${t(l.closesAt)}` : 'Market   no listing open yet',
    lastCleared ? `         last clearing ${lastCleared.id}: ${formatHec(lastCleared.clearingPriceMicroHecPerKWh!)}/kWh, ${formatKWh(lastCleared.tradedMWh ?? 0)} in ${lastCleared.trades ?? 0} trades` : '         no auction has cleared yet',
    storage ? `Storage  ${formatKWh(storage.storedMWh)} of ${formatKWh(storage.capacityMWh)}` : '',
    utility ? `Grid     ${utility.mode}${utility.current ? ` — utility import ${formatHec(utility.current.importMicroHecPerKWh)}/kWh, feed-in ${formatHec(utility.current.feedInMicroHecPerKWh)}/kWh` : ''}; utility supplied ${formatKWh(utility.account.importMWh)}, bought ${formatKWh(utility.account.exportMWh)}; unmet load ${formatKWh(unmet)}` : '',
    '',
    'Household          role       balance        escrow     relay    power     imported    exported   unmet load',
  ];
  for (const h of households.slice(0, 20)) {
    const snap = h.node.meter.snapshot();
    const p = bal.get(h.spec.email);
    const relay = h.spec.role === 'prosumer' ? '—' : snap.relay === 'closed' ? 'closed' : 'OPEN';
    lines.push(`${h.spec.name.padEnd(18)} ${h.spec.role.padEnd(9)} ${(p ? formatHec(p.balanceMicroHec) : '?').padStart(13)} ${(p ? formatHec(p.escrowMicroHec) : '?').padStart(13)} ${relay.padEnd(7)} ${String(snap.powerW).padStart(6)} W ${formatKWh(snap.importMWh).padStart(11)} ${formatKWh(snap.exportMWh).padStart(11)} ${formatKWh(h.node.household?.unmet(clock.now()).energyMWh ?? 0).padStart(12)}`);
  }
  if (households.length > 20) lines.push(`… and ${households.length - 20} more`);
  lines.push('', 'Ctrl-C stops the demo cleanly.');
  return lines.join('\n');
}

async function report(
  o: SimulationOptions, s: Scenario, api: GatewayClient, gw: GatewayProcess, households: Household[], heard: TradesMessage[], minted: number,
  outcomes: Check[], faultLog: string[], ackedBeforeRestart: Map<string, number[]>, faultState: { futureBefore: number; badSigBefore: number; notAuthBefore: number },
  dataDir: string, realStart: number, cpuStart: NodeJS.CpuUsage, totals: CounterTotals, metered: { from: number; to: number; billedFrom: number; heardUntil: number },
): Promise<SimulationResult> {
  const checks: Check[] = [...outcomes];
  totals.observe(await api.counters());
  const counters = new Map(totals.entries());
  const participants = await api.get<Array<{ email: string; balanceMicroHec: number; escrowMicroHec: number }>>('/api/participants');
  const storage = await api.get<{ fundMicroHec: number; storedMWh: number; capacityMWh: number }>('/api/storage');
  const utility = await api.get<UtilityView>('/api/utility');
  const held = participants.reduce((a, p) => a + p.balanceMicroHec + p.escrowMicroHec, 0) + storage.fundMicroHec + utility.account.balanceMicroHec;
  checks.push({ name: 'tokens conserved: balances + escrow + storage fund + utility account = minted', ok: held === minted, detail: `${formatHec(held)} held (utility ${formatHec(utility.account.balanceMicroHec)}), ${formatHec(minted)} minted` });
  const negative = participants.filter((p) => p.balanceMicroHec < 0 || p.escrowMicroHec < 0);
  checks.push({ name: 'no balance or escrow is negative', ok: negative.length === 0, detail: negative.length ? negative.map((p) => p.email).join(', ') : `${participants.length} accounts` });

  // Every reading a meter had acknowledged is stored; every reading it made is stored or still waiting in its outbox.
  let missing = 0;
  let dropped = 0;
  let lostAfterRestart = 0;
  const tamperedSeqs = new Map<string, number[]>();
  await pool(households, 16, async (h) => {
    const id = h.node.meter.meterId;
    const rows = await api.get<Array<{ seq: number }>>(`/api/meters/${id}/readings?limit=10000`);
    const stored = new Set(rows.map((r) => r.seq));
    const snap = h.node.meter.snapshot();
    const waiting = new Set(snap.outbox);
    const tampered = new Set(h.transport.tampered);
    tamperedSeqs.set(h.spec.name, h.transport.tampered);
    for (let q = 1; q <= snap.seq; q++) if (!stored.has(q) && !waiting.has(q) && !tampered.has(q)) missing++;
    dropped += snap.outboxDropped;
    for (const q of ackedBeforeRestart.get(id) ?? []) if (!stored.has(q)) lostAfterRestart++;
    for (const q of tampered) {
      if (stored.has(q)) checks.push({ name: `tampered reading ${q} of ${h.spec.name} was not stored`, ok: false, detail: 'it was stored' });
    }
  });
  checks.push({ name: 'every reading the meters made is stored, or still in a meter\'s outbox', ok: missing <= dropped, detail: `${missing} missing, ${dropped} dropped by meters' full or skewed outboxes` });
  const kinds = new Set(s.faults.map((f) => f.kind));
  if (kinds.has('broker-restart')) {
    checks.push({ name: 'the broker restart lost no acknowledged reading', ok: lostAfterRestart === 0 && gw.restarts > 0, detail: `${[...ackedBeforeRestart.values()].reduce((a, b) => a + b.length, 0)} readings stored before the kill, ${lostAfterRestart} missing after the restart` });
  }
  if (kinds.has('tampered-reading')) {
    const n = [...tamperedSeqs.values()].reduce((a, b) => a + b.length, 0);
    const refused = (counters.get('helios_readings_rejected_total:E_BAD_SIGNATURE') ?? 0) - faultState.badSigBefore;
    // The gateway records the hole the refused reading left in the meter's sequence.
    let gaps = 0;
    for (const [name, seqs] of tamperedSeqs) {
      if (!seqs.length) continue;
      const m = await api.get<{ gaps: Array<{ afterSeq: number; nextSeq: number }> }>(`/api/meters/${byNameOf(households, name).node.meter.meterId}`);
      gaps += seqs.filter((q) => m.gaps.some((g) => g.afterSeq < q && q < g.nextSeq)).length;
    }
    checks.push({ name: 'the tampered reading was refused (E_BAD_SIGNATURE), never stored, and its gap recorded', ok: n > 0 && refused >= n && gaps === n, detail: `${n} altered, ${refused} refused, ${gaps} gap(s) recorded` });
  }
  if (kinds.has('clock-skew')) {
    const refused = (counters.get('helios_readings_rejected_total:E_FUTURE_TIMESTAMP') ?? 0) - faultState.futureBefore;
    const skewed = s.faults.filter((f) => f.kind === 'clock-skew').map((f) => byNameOf(households, (f as { household: string }).household));
    const resynced = skewed.every((h) => h.node.meter.snapshot().clock === 'set');
    checks.push({ name: 'readings from a skewed clock were refused and the meter set right by the gateway\'s Time', ok: refused > 0 && resynced, detail: `E_FUTURE_TIMESTAMP ×${refused}` });
  }
  if (kinds.has('meter-offline')) {
    for (const f of s.faults.filter((x) => x.kind === 'meter-offline') as Array<Extract<Fault, { kind: 'meter-offline' }>>) {
      const h = byNameOf(households, f.household);
      const from = Date.parse(f.at);
      const rows = await api.get<Array<{ t: number }>>(`/api/meters/${h.node.meter.meterId}/readings?from=${from}&to=${from + f.forMinutes * 60_000}`);
      const expected = Math.floor((f.forMinutes * 60) / s.readingPeriodSeconds) - 1;
      checks.push({ name: `${h.spec.name}'s readings from its offline window arrived after it reconnected`, ok: rows.length >= expected, detail: `${rows.length} readings dated in the window (≥ ${expected} expected)` });
    }
  }

  // The summary from the ledger, and the trades heard over MQTT: they must agree.
  const hist = await api.get<Array<{ id: string }>>('/api/market/history?limit=1000');
  const periods: PeriodRow[] = [];
  let ledgerTraded = 0;
  let ledgerTrades = 0;
  let closedBeforeTraded = 0;
  let closedBeforeTrades = 0;
  let paid = 0;
  for (const { id } of hist.reverse()) {
    const l = await api.get<ListingView & { trades: Array<{ energyMWh: number; paymentMicroHec: number }>; closed?: { t: number } }>(`/api/market/listings/${id}`);
    const tt = l.settlement?.totals;
    const tradedMWh = l.trades.reduce((a, t) => a + t.energyMWh, 0);
    ledgerTraded += tradedMWh;
    ledgerTrades += l.trades.length;
    if (l.closed && l.closed.t < metered.heardUntil) {
      closedBeforeTraded += tradedMWh;
      closedBeforeTrades += l.trades.length;
    }
    paid += l.trades.reduce((a, t) => a + t.paymentMicroHec, 0);
    periods.push({
      listing: l.id, state: l.state, offers: l.offers, bids: l.bids, offeredMWh: l.offeredMWh, bidMWh: l.bidMWh, trades: l.trades.length, tradedMWh,
      clearingPriceMicroHecPerKWh: l.clearingPriceMicroHecPerKWh ?? null,
      soldMWh: tt?.soldMWh ?? null, deliveredMWh: tt?.deliveredMWh ?? null, paidToSellersMicroHec: tt?.paidToSellersMicroHec ?? null,
      refundedMicroHec: tt?.refundedMicroHec ?? null, storageCreditMicroHec: tt?.storageCreditMicroHec ?? null,
    });
  }
  const heardTraded = heard.reduce((a, m) => a + m.trades.reduce((b, t) => b + t.energyMWh, 0), 0);
  const heardTrades = heard.reduce((a, m) => a + m.trades.length, 0);
  checks.push({ name: 'the summary matches the ledger: trades broadcast = trades on the chain', ok: heardTraded === closedBeforeTraded && heardTrades === closedBeforeTrades, detail: `${heardTrades} trades, ${formatKWh(heardTraded)} heard; ${closedBeforeTrades} trades, ${formatKWh(closedBeforeTraded)} on the ledger from the closes before the observer stopped (${ledgerTrades} in all)` });

  // Energy: PV produced (the model, integrated per minute), metered import and export.
  let pvWh = 0;
  // Over the span the meters measured, so PV produced and metered export are comparable.
  const simEnd = metered.to;
  for (const h of households) for (let t = metered.from; t < simEnd; t += 60_000) pvWh += (h.model.pvW(t) * Math.min(60_000, simEnd - t)) / 3_600_000;
  let importMWh = 0;
  let exportMWh = 0;
  for (const h of households) {
    const snap = h.node.meter.snapshot();
    importMWh += snap.importMWh;
    exportMWh += snap.exportMWh;
  }
  const rejected: Record<string, number> = {};
  for (const [k, v] of counters) {
    const m = /^helios_(readings_rejected|mqtt_refused|txs_rejected)_total:(E_[A-Z_]+)$/.exec(k);
    if (m && v > 0) rejected[m[2]] = (rejected[m[2]] ?? 0) + v;
  }
  const settled = periods.filter((p) => p.deliveredMWh !== null);
  const sold = settled.reduce((a, p) => a + (p.soldMWh ?? 0), 0);
  const delivered = settled.reduce((a, p) => a + (p.deliveredMWh ?? 0), 0);
  const avgPrice = ledgerTraded > 0 ? Math.round((paid * 1_000_000) / ledgerTraded) : 0;
  const grid = await gridFigures(api, s, households, participants, utility, periods, metered);
  const cpu = process.cpuUsage(cpuStart);
  const rssMiB = Math.round(process.memoryUsage().rss / 1048576);
  const realSeconds = (Date.now() - realStart) / 1000;
  const row = (a: string, b: string) => `  ${a.padEnd(40)} ${b}`;
  const summary = [
    `Simulation "${s.name}" — ${households.length} households (${households.filter((h) => h.spec.role === 'prosumer').length} prosumers), ${s.clearing}, ×${s.speed}`,
    row('simulated (meters measuring)', `${new Date(metered.from).toISOString().slice(0, 16)} → ${new Date(simEnd).toISOString().slice(0, 16)} UTC (${Math.round((simEnd - metered.from) / 60_000)} min; setup took ${Math.round((metered.from - Date.parse(s.start)) / 60_000)} simulated min)`),
    row('energy produced (PV, model)', formatKWh(Math.round(pvWh * 1000))),
    row('energy imported / exported (metered)', `${formatKWh(importMWh)} / ${formatKWh(exportMWh)}`),
    row('energy traded', `${formatKWh(ledgerTraded)} in ${ledgerTrades} trades over ${periods.length} listings`),
    row('average price paid', ledgerTraded ? `${formatHec(avgPrice)} per kWh` : '—'),
    row('settled listings: sold / delivered', settled.length ? `${formatKWh(sold)} / ${formatKWh(delivered)} (shortfall ${formatKWh(sold - delivered)})` : 'none settled yet'),
    ...gridSummary(grid, utility, row),
    row('community storage', `${formatKWh(storage.storedMWh)} of ${formatKWh(storage.capacityMWh)}, fund ${formatHec(storage.fundMicroHec)}`),
    row('readings stored', String(counters.get('helios_readings_accepted_total') ?? 0)),
    row('messages refused, by code', Object.keys(rejected).length ? Object.entries(rejected).map(([k, v]) => `${k} ×${v}`).join(', ') : 'none'),
    ...(faultLog.length ? ['  faults:', ...faultLog.map((f) => `    ${f}`)] : []),
    row('simulator CPU / RSS', `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU in ${realSeconds.toFixed(0)} s, ${rssMiB} MiB`),
    row('data directory', dataDir),
  ].join('\n');
  if (o.csv) {
    const head = 'listing,state,offers,bids,offered_kwh,bid_kwh,trades,traded_kwh,clearing_price_hec_per_kwh,sold_kwh,delivered_kwh,paid_to_sellers_hec,refunded_hec,storage_credit_hec';
    const kwh = (v: number | null) => (v === null ? '' : (v / 1e6).toFixed(6));
    const hec = (v: number | null) => (v === null ? '' : (v / 1e6).toFixed(6));
    writeFileSync(o.csv, [head, ...periods.map((p) => [p.listing, p.state, p.offers, p.bids, kwh(p.offeredMWh), kwh(p.bidMWh), p.trades, kwh(p.tradedMWh), hec(p.clearingPriceMicroHecPerKWh), kwh(p.soldMWh), kwh(p.deliveredMWh), hec(p.paidToSellersMicroHec), hec(p.refundedMicroHec), hec(p.storageCreditMicroHec)].join(','))].join('\n') + '\n');
  }
  return {
    ok: false, dataDir, checks, summary, periods, rejected, grid,
    stats: { readings: counters.get('helios_readings_accepted_total') ?? 0, trades: ledgerTrades, tradedMWh: ledgerTraded, meters: households.length, simMinutes: Math.round((simEnd - metered.from) / 60_000), realSeconds, rssMiB, cpuSeconds: (cpu.user + cpu.system) / 1e6, run: { seconds: 0, readings: 0, cpuSeconds: 0, peakRssMiB: 0, setupSeconds: 0, gatewayCpuSeconds: 0, gatewayPeakRssMiB: 0, gatewayPeakHeapMiB: 0, secondHalfReadingsPerSec: 0 } },
  };
}

interface UtilityView {
  mode: 'on-grid' | 'islanded';
  current?: { importMicroHecPerKWh: number; feedInMicroHecPerKWh: number };
  account: { balanceMicroHec: number; importMWh: number; exportMWh: number; unbilledMicroHec: number };
}

/**
 * Unmet load, the utility's energy, the P2P share and each household's bill against
 * buying everything from the utility. Bills are over what the settled listings billed:
 * from the first delivery period to the end of the last settled one.
 */
async function gridFigures(
  api: GatewayClient, s: Scenario, households: Household[], participants: Array<{ email: string; balanceMicroHec: number; escrowMicroHec: number }>,
  utility: UtilityView, periods: PeriodRow[], metered: { to: number; billedFrom: number },
): Promise<GridFigures> {
  const P = s.marketPeriodMinutes * 60_000;
  const settled = periods.filter((p) => p.state === 'SETTLED');
  const billedTo = settled.reduce((a, p) => Math.max(a, Date.parse(p.listing) + P), 0);
  const unsettled = periods.filter((p) => p.state !== 'SETTLED' && Date.parse(p.listing) < metered.to).length;
  const tariff = utility.current ?? { importMicroHecPerKWh: 0, feedInMicroHecPerKWh: 0 };
  const byEmail = new Map(participants.map((p) => [p.email, p]));
  const rows: HouseholdFigures[] = [];
  let importMWh = 0;
  await pool(households, 16, async (h) => {
    const e = billedTo > metered.billedFrom
      ? await api.get<{ importMWh: number; exportMWh: number }>(`/api/meters/${h.node.meter.meterId}/energy?from=${metered.billedFrom}&to=${billedTo}`)
      : { importMWh: 0, exportMWh: 0 };
    importMWh += e.importMWh;
    const u = h.node.household?.unmet(metered.to) ?? { energyMWh: 0, durationMs: 0 };
    const p = byEmail.get(h.spec.email);
    rows.push({
      name: h.spec.name, role: h.spec.role, unmetMWh: u.energyMWh, unmetHours: u.durationMs / 3_600_000,
      balanceMicroHec: p?.balanceMicroHec ?? 0,
      billMicroHec: h.spec.initialMicroHec - (p ? p.balanceMicroHec + p.escrowMicroHec : 0),
      utilityOnlyMicroHec: paymentMicroHec(e.importMWh, tariff.importMicroHecPerKWh) - paymentMicroHec(e.exportMWh, tariff.feedInMicroHecPerKWh),
    });
  });
  rows.sort((a, b) => households.findIndex((h) => h.spec.name === a.name) - households.findIndex((h) => h.spec.name === b.name));
  return {
    mode: s.grid,
    unmetMWh: rows.reduce((a, r) => a + r.unmetMWh, 0),
    unmetHouseholdHours: rows.reduce((a, r) => a + r.unmetHours, 0),
    utilityImportMWh: utility.account.importMWh,
    utilityExportMWh: utility.account.exportMWh,
    importMWh,
    p2pMWh: settled.reduce((a, p) => a + (p.deliveredMWh ?? 0), 0),
    unsettled,
    households: rows,
  };
}

function gridSummary(g: GridFigures, u: UtilityView, row: (a: string, b: string) => string): string[] {
  const share = g.importMWh > 0 ? `${((100 * g.p2pMWh) / g.importMWh).toFixed(1)} %` : '—';
  const tariff = u.current ? `import ${formatHec(u.current.importMicroHecPerKWh)}/kWh, feed-in ${formatHec(u.current.feedInMicroHecPerKWh)}/kWh` : 'no tariff';
  const lines = [
    row('grid', `${g.mode}${g.mode === 'on-grid' ? ` (utility ${tariff})` : ` (reference ${tariff})`}`),
    row('unmet load (relay open, load wanting)', `${formatKWh(g.unmetMWh)} over ${g.unmetHouseholdHours.toFixed(2)} household-hours`),
    row('utility import / export (billed)', `${formatKWh(g.utilityImportMWh)} / ${formatKWh(g.utilityExportMWh)}`),
    row('P2P share of consumption', `${share} (${formatKWh(g.p2pMWh)} of ${formatKWh(g.importMWh)} imported in settled periods)`),
    ...(g.unsettled ? [row('not yet settled (not billed)', `${g.unsettled} period(s)`)] : []),
    '  household          role       unmet load      bill (HEC)  utility only (HEC)   saving',
  ];
  for (const h of g.households.slice(0, 20)) {
    const saving = h.utilityOnlyMicroHec - h.billMicroHec;
    lines.push(`  ${h.name.padEnd(18)} ${h.role.padEnd(9)} ${formatKWh(h.unmetMWh).padStart(11)} ${(h.billMicroHec / 1e6).toFixed(3).padStart(14)} ${(h.utilityOnlyMicroHec / 1e6).toFixed(3).padStart(19)} ${(saving / 1e6).toFixed(3).padStart(8)}`);
  }
  if (g.households.length > 20) lines.push(`  … and ${g.households.length - 20} more`);
  return lines;
}

function byNameOf(households: Household[], name: string): Household {
  return households.find((h) => h.spec.name === name)!;
}
