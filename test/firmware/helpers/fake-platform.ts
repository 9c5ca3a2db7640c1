/**
 * A fake platform for the meter core: the parts that cannot run in a test (flash,
 * pins, radio) replaced by small deterministic stand-ins. Pure TypeScript with no
 * Node built-ins, so the same scenarios run on Node and inside XS.
 *
 * - FakeStorage: Preference semantics and limits, and power cuts at any step: a
 *   `set` is two steps (erase, then write), as on the ESP32.
 * - FakeBroker / FakeTransport: an in-memory MQTT broker with retained messages,
 *   last wills and outages; events arrive through the ManualClock, never inside a call.
 * - seededEntropy: a deterministic byte source.
 */
import { checkPreference, type MqttConnectOptions, type MqttConnection, type MqttHandlers, type MqttTransport, type PreferenceStore, type PreferenceValue, type RelayOutput } from '../../../firmware/core/index.ts';
import type { Clock, EntropySource } from '../../../protocol/index.ts';

export class PowerCut extends Error {
  constructor() {
    super('power cut');
    this.name = 'PowerCut';
  }
}

function copy(v: PreferenceValue): PreferenceValue {
  return v instanceof ArrayBuffer ? v.slice(0) : v;
}

export class FakeStorage implements PreferenceStore {
  private data: Map<string, PreferenceValue>;
  /** Storage steps done so far (an erase or a write each). */
  steps = 0;
  writes = 0;
  dead = false;
  private cutAt: number | undefined;

  constructor(data?: Map<string, PreferenceValue>) {
    this.data = data ?? new Map();
  }

  /** Lose power after `n` more steps: step n+1 never happens and everything after throws. */
  cutAfter(n: number): void {
    this.cutAt = this.steps + n;
  }

  private step(): void {
    if (this.dead) throw new PowerCut();
    if (this.cutAt !== undefined && this.steps >= this.cutAt) {
      this.dead = true;
      throw new PowerCut();
    }
    this.steps++;
  }

  get(domain: string, key: string): PreferenceValue | undefined {
    if (this.dead) throw new PowerCut();
    checkPreference(domain, key);
    const v = this.data.get(domain + '/' + key);
    return v === undefined ? undefined : copy(v);
  }

  set(domain: string, key: string, value: PreferenceValue): void {
    checkPreference(domain, key, value);
    this.step();
    this.data.delete(domain + '/' + key);
    this.step();
    this.data.set(domain + '/' + key, copy(value));
    this.writes++;
  }

  delete(domain: string, key: string): void {
    checkPreference(domain, key);
    this.step();
    this.data.delete(domain + '/' + key);
  }

  /** The flash after a reboot: same contents, power back on. */
  reboot(): FakeStorage {
    const m = new Map<string, PreferenceValue>();
    for (const [k, v] of this.data) m.set(k, copy(v));
    return new FakeStorage(m);
  }

  keys(): string[] {
    return [...this.data.keys()].sort();
  }

  /** Flip a byte in the middle of a stored value (damaged flash). */
  damage(domain: string, key: string): void {
    const v = this.data.get(domain + '/' + key);
    if (v instanceof ArrayBuffer) {
      const b = new Uint8Array(v.slice(0));
      b[b.length >> 1] ^= 0x5a;
      this.data.set(domain + '/' + key, b.buffer);
    } else if (typeof v === 'string') {
      this.data.set(domain + '/' + key, v.slice(0, v.length >> 1) + '\u0001' + v.slice((v.length >> 1) + 1));
    } else {
      throw new Error(`nothing to damage at ${domain}/${key}`);
    }
  }
}

/** Deterministic bytes (a 32-bit LCG); never use outside tests. */
export function seededEntropy(seed: number): EntropySource {
  let s = seed >>> 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      out[i] = s >>> 24;
    }
    return out;
  };
}

export class FakeRelay implements RelayOutput {
  closed: boolean | undefined;
  history: boolean[] = [];
  listener: ((closed: boolean) => void) | undefined;

  set(closed: boolean): void {
    this.closed = closed;
    this.history.push(closed);
    this.listener?.(closed);
  }
}

export interface Delivered {
  t: number;
  topic: string;
  payload: string;
  retain: boolean;
  /** Client id of the publisher; 'broker' for a will, 'gateway' for the test's own messages. */
  from: string;
}

interface ClientLink {
  id: string;
  options: MqttConnectOptions;
  handlers: MqttHandlers;
  subscriptions: Set<string>;
  open: boolean;
}

/**
 * Just enough of an MQTT broker: exact-topic subscriptions, retained messages,
 * last wills, and outages. The test plays the gateway through `onPublish` and
 * `publish`.
 */
export class FakeBroker {
  up = true;
  readonly log: Delivered[] = [];
  readonly retained = new Map<string, string>();
  readonly connects: MqttConnectOptions[] = [];
  private clients: ClientLink[] = [];
  /** Decide whether a CONNECT is accepted (default: yes). */
  accept: (options: MqttConnectOptions) => boolean = () => true;
  /** Called for every message a client publishes, after it is routed. */
  onPublish: ((m: Delivered) => void) | undefined;
  /** Called when a client's CONNECT is accepted. */
  onConnect: ((options: MqttConnectOptions) => void) | undefined;
  /** Called after a client subscribed (the gateway answers some subscriptions, as the real one does). */
  onSubscribe: ((clientId: string, topic: string) => void) | undefined;

  constructor(readonly clock: Clock) {}

  private later(fn: () => void): void {
    this.clock.setTimeout(fn, 0);
  }

  connect(options: MqttConnectOptions, handlers: MqttHandlers): MqttConnection {
    const link: ClientLink = { id: options.clientId, options, handlers, subscriptions: new Set(), open: true };
    this.later(() => {
      if (!link.open) return;
      if (!this.up || !this.accept(options)) {
        link.open = false;
        handlers.onClose(this.up ? 'connection refused: bad user name or password' : 'connection refused');
        return;
      }
      this.connects.push(options);
      // [MQTT-3.1.4-2]: a second connection with the same client id takes over from the first.
      for (const other of this.clients) if (other.id === link.id) this.kill(other, 'session taken over');
      this.clients.push(link);
      handlers.onReady();
      this.onConnect?.(options);
    });
    return {
      publish: (topic, payload, retain) => {
        if (!link.open || !this.up) throw new Error('connection closed');
        this.route({ t: this.clock.now(), topic, payload, retain, from: link.id });
      },
      subscribe: (topic) => {
        if (!link.open) throw new Error('connection closed');
        link.subscriptions.add(topic);
        const r = this.retained.get(topic);
        if (r !== undefined) this.later(() => { if (link.open) link.handlers.onMessage(topic, r); });
        this.later(() => { if (link.open) this.onSubscribe?.(link.id, topic); });
      },
      close: () => {
        // A DISCONNECT: no will [MQTT-3.14.4-3].
        link.open = false;
        this.clients = this.clients.filter((c) => c !== link);
      },
    };
  }

  private kill(link: ClientLink, reason: string): void {
    if (!link.open) return;
    link.open = false;
    this.clients = this.clients.filter((c) => c !== link);
    const will = link.options.will;
    this.route({ t: this.clock.now(), topic: will.topic, payload: will.payload, retain: will.retain, from: 'broker' });
    this.later(() => link.handlers.onClose(reason));
  }

  private route(m: Delivered): void {
    this.log.push(m);
    // [MQTT-3.3.1-10]: an empty retained message removes the retained one (and is delivered as it is).
    if (m.retain) {
      if (m.payload === '') this.retained.delete(m.topic);
      else this.retained.set(m.topic, m.payload);
    }
    for (const c of this.clients) {
      if (c.subscriptions.has(m.topic)) {
        const link = c;
        this.later(() => { if (link.open) link.handlers.onMessage(m.topic, m.payload); });
      }
    }
    if (m.from !== 'gateway') this.onPublish?.(m);
  }

  /** The test, as the gateway, publishes. */
  publish(topic: string, payload: string, retain = false): void {
    if (!this.up) return;
    this.route({ t: this.clock.now(), topic, payload, retain, from: 'gateway' });
  }

  /** The broker process dies: every connection drops (wills are published by the next broker instance in reality; here, at once). */
  down(): void {
    for (const c of [...this.clients]) this.kill(c, 'broker went away');
    this.up = false;
  }

  restart(): void {
    this.up = true;
  }

  /** Drop one client's connection as a network fault would. */
  dropClient(id: string): void {
    for (const c of [...this.clients]) if (c.id === id) this.kill(c, 'network fault');
  }

  messages(topicSuffix: string): Delivered[] {
    return this.log.filter((m) => m.topic.endsWith(topicSuffix));
  }

  isConnected(id: string): boolean {
    return this.clients.some((c) => c.id === id && c.open);
  }
}

export class FakeTransport implements MqttTransport {
  constructor(private readonly broker: FakeBroker) {}

  connect(options: MqttConnectOptions, handlers: MqttHandlers): MqttConnection {
    return this.broker.connect(options, handlers);
  }
}
