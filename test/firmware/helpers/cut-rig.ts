/**
 * A meter on the node platform against a real gateway, with storage that can lose
 * power at a chosen write (firmware/platform/node/faultyStore.ts) and a gateway that
 * can go down and come back on the same port: what the power-cut and corruption
 * tests drive. The meter's logic is firmware/core, the code the firmware runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJson, scaledClock, systemClock, type Clock } from '../../../protocol/index.ts';
import {
  DOMAIN, OutboxRing, SlotStore, decodeState, type MeterConfigInput, type MqttConnectOptions, type MqttConnection, type MqttHandlers, type MqttTransport,
} from '../../../firmware/core/index.ts';
import { FaultyStore, FilePreferenceStore, NodeMqttTransport, createNodeMeter, type NodeMeter } from '../../../firmware/platform/node/index.ts';
import { Gateway } from '../../../gateway/gateway.ts';
import { silentLogger } from '../../../gateway/log.ts';
import { http, newGridDir, type GridDir } from '../../helpers/gateway.ts';

export async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Published {
  seq: number;
  payload: string;
  importMWh: number;
  exportMWh: number;
}

/** Records every reading the meter publishes, exactly as it went on the wire. */
class RecordingTransport implements MqttTransport {
  constructor(private readonly inner: MqttTransport, private readonly out: Published[]) {}

  connect(options: MqttConnectOptions, handlers: MqttHandlers): MqttConnection {
    const c = this.inner.connect(options, handlers);
    const out = this.out;
    return {
      publish(topic, payload, retain) {
        c.publish(topic, payload, retain);
        if (topic.endsWith('/reading')) {
          const b = (parseJson(payload) as { body: { seq: number; importMWh: number; exportMWh: number } }).body;
          out.push({ seq: b.seq, payload, importMWh: b.importMWh, exportMWh: b.exportMWh });
        }
      },
      subscribe: (topic) => c.subscribe(topic),
      close: () => c.close(),
    };
  }
}

/** What the flash says is durable: the readings it would send again after a reboot, and the highest acknowledged sequence. */
export function persistedReadings(store: FilePreferenceStore, outboxMax: number): { pending: number[]; ackSeq: number; seq: number } {
  const slots = new SlotStore(store, DOMAIN, 'state').inspect();
  if (!slots.payload) return { pending: [], ackSeq: 0, seq: 0 };
  const st = decodeState(slots.payload);
  const pending = new Set<number>();
  if (st.last && st.last.seq > st.ackSeq) {
    pending.add(st.last.seq);
    for (const r of new OutboxRing(store, DOMAIN, outboxMax).load().records) {
      if (r.seq > st.ackSeq && r.seq < st.last.seq && r.seq > st.last.seq - outboxMax) pending.add(r.seq);
    }
  }
  return { pending: [...pending].sort((a, b) => a - b), ackSeq: st.ackSeq, seq: st.seq };
}

export const SPEED = 300;
export const METER_CONFIG: Omit<MeterConfigInput, 'grid'> = {
  readingPeriodMs: 60_000,
  persistEveryWh: 10,
  persistEveryMs: 5 * 60_000,
  outboxMax: 60,
  backoff: { baseMs: 1000, capMs: 10_000, stableMs: 30_000 },
  connectTimeoutMs: 60_000,
};

export class CutRig {
  readonly clock: Clock = scaledClock(systemClock(), SPEED);
  readonly grid: GridDir;
  readonly dir = mkdtempSync(join(tmpdir(), 'helios-cut-'));
  readonly flash: FilePreferenceStore;
  gateway: Gateway | undefined;
  port = 0;
  store: FaultyStore;
  node: NodeMeter | undefined;
  /** Every reading published, over every boot. */
  readonly published: Published[] = [];
  /** The meter's console, over every boot (a line per message, "level message"). */
  readonly console: string[] = [];
  /** Meter ids, one per boot. */
  readonly ids: string[] = [];

  constructor(readonly config: Omit<MeterConfigInput, 'grid'> = METER_CONFIG) {
    this.grid = newGridDir({ blockPeriodMs: 60_000 });
    this.flash = new FilePreferenceStore(join(this.dir, 'meter', 'preferences'), { fsync: false });
    this.store = new FaultyStore(this.flash);
  }

  async startGateway(): Promise<Gateway> {
    if (!this.port) this.port = await freePort();
    this.gateway = await Gateway.start({
      dataDir: this.grid.dir, clock: this.clock, httpPort: 0, mqttPort: this.port, mqttTlsPort: null, mqttWsPort: null,
      log: silentLogger, verifyWorkers: 0, limits: { ratePerSec: 10_000 },
    });
    return this.gateway;
  }

  async stopGateway(): Promise<void> {
    const g = this.gateway;
    this.gateway = undefined;
    await g?.stop();
  }

  get gw(): Gateway {
    if (!this.gateway) throw new Error('the gateway is down');
    return this.gateway;
  }

  /** Power on: a new meter on the same flash (through a fresh fault-injecting layer). */
  boot(): NodeMeter {
    this.store = this.store.reboot();
    const node = createNodeMeter({
      grid: this.grid.genesis.grid, brokerUrl: `mqtt://127.0.0.1:${this.port}`, clock: this.clock, storage: this.store,
      power: 2000, powerStepMs: 1000, config: this.config,
      transport: new RecordingTransport(new NodeMqttTransport({ url: `mqtt://127.0.0.1:${this.port}` }), this.published),
      log: { log: (level, message) => this.console.push(`${level} ${message}`) },
    });
    this.node = node;
    this.ids.push(node.meter.meterId);
    node.start();
    return node;
  }

  /** The power goes: no more writes, the meter's timers and connection end with it. */
  kill(): void {
    this.store.dead = true;
    this.node?.stop();
    this.node = undefined;
  }

  get meter() {
    if (!this.node) throw new Error('the meter is off');
    return this.node.meter;
  }

  async enrol(id: string, publicKey: string): Promise<void> {
    const r = await http<{ status: string }>(this.gw.httpUrl + '/api/authority/tx?wait=commit', 'POST', {
      type: 'EnrollMeter', meter: id, publicKey, participant: this.grid.households[1].email,
      installer: 'Ines Installer', location: 'Asad, kitchen', pulsesPerKWh: 1000, relay: true,
    }, { authorization: `Bearer ${this.grid.operatorSecret}` });
    if (r.body.status !== 'committed' && r.body.status !== 'pending') throw new Error(`enrolment refused: ${JSON.stringify(r.body)}`);
  }

  /** Credit for the whole test, so the household is supplied and energy is counted. */
  fund(meter: string): void {
    const now = this.clock.now();
    this.gw.service.issueCredit({ meter, energyMWh: 1_000_000_000, validFrom: now - 60_000, validUntil: now + 30 * 86_400_000, ref: `fund-${meter}` });
  }

  /** First boot to a running, enrolled, funded meter with a few readings stored. */
  async commission(): Promise<string> {
    await this.startGateway();
    const node = this.boot();
    const id = node.meter.meterId;
    await until('the meter says Hello', () => this.gw.metering.hellos().some((h) => h.meter === id));
    await this.enrol(id, node.meter.publicKey);
    await until('the meter learns it is enrolled', () => this.meter.enrolled && this.meter.sessionInfo().state === 'online');
    this.fund(id);
    await until('the relay closes on credit', () => this.node?.relay.closed === true);
    await until('three readings stored', () => this.gw.metering.readingCount(id) >= 3);
    return id;
  }

  /** The meter's status as the gateway's HTTP API shows it to the operator. */
  async status(id: string): Promise<{ state: string; fault?: string | null }> {
    const r = await http<{ status: { state: string; fault?: string | null } }>(this.gw.httpUrl + `/api/meters/${id}`, 'GET', undefined, { authorization: `Bearer ${this.grid.operatorSecret}` });
    return r.body.status;
  }

  async close(): Promise<void> {
    this.kill();
    await this.stopGateway();
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.grid.dir, { recursive: true, force: true });
  }
}
