/**
 * A minimal meter that speaks the protocol over real MQTT (mqtt.js), for gateway
 * tests: it logs in with a counter token, signs readings, and records what the
 * gateway sends back. (The real meter is firmware/; this one is deliberately
 * simple so gateway tests can also misbehave on purpose.)
 */
import mqtt, { type MqttClient } from 'mqtt';
import { canonicalize, generateKeyPair, signBody, topics, type KeyPair, type ReadingBody } from '../../protocol/index.ts';
import { testEntropy } from './grid.ts';

export interface Received {
  topic: string;
  payload: string;
}

export class MqttMeter {
  readonly key: KeyPair;
  readonly grid: string;
  client?: MqttClient;
  seq = 0;
  ctr = 0;
  importMWh = 0;
  exportMWh = 0;
  readonly received: Received[] = [];

  constructor(grid: string, seed: number, key?: KeyPair) {
    this.grid = grid;
    this.key = key ?? generateKeyPair(testEntropy(seed));
  }

  get id(): string {
    return this.key.keyId;
  }

  loginToken(opts: { withKey?: boolean; ctr?: number } = {}): string {
    this.ctr = opts.ctr ?? this.ctr + 1;
    return canonicalize(signBody({ type: 'Login', grid: this.grid, id: this.id, client: this.id, ctr: this.ctr, ...(opts.withKey ? { publicKey: this.key.publicKey } : {}) }, this.key.secretKey));
  }

  /** Connect; resolves on CONNACK success, rejects with the broker's refusal. */
  connect(url: string, opts: { withKey?: boolean; password?: string; username?: string; subscribe?: boolean; will?: boolean } = {}): Promise<void> {
    const client = mqtt.connect(url, {
      clientId: this.id,
      username: opts.username ?? this.id,
      password: opts.password ?? this.loginToken({ withKey: opts.withKey }),
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion: 4,
      ...(opts.will !== false ? { will: { topic: topics.meter(this.grid, this.id, 'status'), payload: Buffer.from(canonicalize({ type: 'Status', meter: this.id, state: 'offline' })), qos: 0, retain: true } } : {}),
    });
    this.client = client;
    client.on('message', (topic, payload) => this.received.push({ topic, payload: payload.toString() }));
    return new Promise((resolve, reject) => {
      client.once('connect', async () => {
        if (opts.subscribe !== false) {
          try {
            await client.subscribeAsync(['ack', 'time', 'credit', 'enrolment'].map((l) => topics.meter(this.grid, this.id, l as 'ack')));
          } catch (e) {
            reject(e); // the connection closed before SUBACK
            return;
          }
        }
        resolve();
      });
      client.once('error', (e) => reject(e));
      client.once('close', () => reject(new Error('connection closed before CONNACK')));
    });
  }

  /** A signed reading with the next sequence number (fields can be overridden). */
  reading(over: Partial<ReadingBody> = {}, t = Date.now()): string {
    this.seq += 1;
    this.importMWh += 100;
    const body: ReadingBody = {
      type: 'Reading', grid: this.grid, meter: this.id, seq: this.seq, t, importMWh: this.importMWh, exportMWh: this.exportMWh,
      powerW: 360, relay: 'open', creditMWh: 0, fw: 'test-meter 1', ...over,
    };
    return canonicalize(signBody(body, this.key.secretKey));
  }

  publish(topic: string, payload: string | Buffer): Promise<void> {
    return this.client!.publishAsync(topic, payload, { qos: 0 }).then(() => undefined);
  }

  publishReading(payload = this.reading(), topicMeter = this.id): Promise<void> {
    return this.publish(topics.meter(this.grid, topicMeter, 'reading'), payload);
  }

  acks(): number[] {
    return this.received.filter((r) => r.topic.endsWith('/ack')).map((r) => (JSON.parse(r.payload) as { seq: number }).seq);
  }

  lastAck(): number {
    const a = this.acks();
    return a.length ? a[a.length - 1] : 0;
  }

  async waitFor(pred: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
    const start = Date.now();
    while (!(await pred())) {
      if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    if (this.client && this.client.connected) await this.client.endAsync();
    else this.client?.end(true);
  }
}
