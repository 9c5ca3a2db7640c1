/**
 * Fault injection at the edges of a virtual meter, so the real firmware core meets
 * the faults a real one would: its network dropping, a clock that jumps, a reading
 * altered on the wire, a forged credit token arriving.
 */
import { canonicalize, generateKeyPair, signBody, type Clock, type CreditTokenBody } from '../protocol/index.ts';
import type { MqttConnectOptions, MqttConnection, MqttHandlers, MqttTransport } from '../firmware/core/index.ts';

export class FaultyTransport implements MqttTransport {
  /** While true, the meter has no network: connections drop and new ones fail. */
  private down = false;
  private tamperNext = false;
  private current: { handlers: MqttHandlers; conn: MqttConnection } | undefined;
  /** Sequence numbers of the readings that were altered on their way. */
  readonly tampered: number[] = [];

  constructor(private readonly inner: MqttTransport) {}

  connect(o: MqttConnectOptions, handlers: MqttHandlers): MqttConnection {
    if (this.down) {
      let open = true;
      setImmediate(() => open && handlers.onClose('network unreachable (simulated)'));
      return { publish() { throw new Error('no network'); }, subscribe() { throw new Error('no network'); }, close() { open = false; } };
    }
    const conn = this.inner.connect(o, {
      onReady: () => handlers.onReady(),
      onMessage: (t, p) => handlers.onMessage(t, p),
      onClose: (r) => {
        if (this.current?.conn === wrapped) this.current = undefined;
        handlers.onClose(r);
      },
    });
    const wrapped: MqttConnection = {
      publish: (topic, payload, retain) => {
        if (this.tamperNext && topic.endsWith('/reading')) {
          this.tamperNext = false;
          const m = /"seq":(\d+)/.exec(payload);
          if (m) this.tampered.push(Number(m[1]));
          // Someone on the path adds a kilowatt-hour of import; the signature no longer matches.
          payload = payload.replace(/"importMWh":(\d+)/, (_, v: string) => `"importMWh":${Number(v) + 1_000_000}`);
        }
        conn.publish(topic, payload, retain);
      },
      subscribe: (topic) => conn.subscribe(topic),
      close: () => conn.close(),
    };
    this.current = { handlers, conn: wrapped };
    return wrapped;
  }

  setNetwork(up: boolean): void {
    this.down = !up;
    if (!up && this.current) {
      const c = this.current;
      this.current = undefined;
      c.conn.close();
      c.handlers.onClose('network lost (simulated)');
    }
  }

  tamperNextReading(): void {
    this.tamperNext = true;
  }

  /** Deliver a message to the meter as if the broker had sent it. */
  inject(topic: string, payload: string): boolean {
    if (!this.current) return false;
    this.current.handlers.onMessage(topic, payload);
    return true;
  }
}

/** A clock that can be made to jump (a skewed RTC), on top of the simulation's clock. */
export class SkewableClock implements Clock {
  skewMs = 0;
  constructor(private readonly base: Clock) {}
  now(): number { return this.base.now() + this.skewMs; }
  setTimeout(fn: () => void, ms: number) { return this.base.setTimeout(fn, ms); }
  clearTimeout(h: Parameters<Clock['clearTimeout']>[0]) { this.base.clearTimeout(h); }
}

/** A credit token for `meter`, correctly formed but signed by a key that is no authority's. */
export function forgedCreditToken(grid: string, meter: string, now: number): string {
  const thief = generateKeyPair((n) => globalThis.crypto.getRandomValues(new Uint8Array(n)));
  const body: CreditTokenBody = {
    type: 'CreditToken', grid, meter, energyMWh: 10_000_000, validFrom: now, validUntil: now + 3_600_000,
    nonce: 'f0'.repeat(16), issuer: thief.keyId, ref: 'forged',
  };
  return canonicalize(signBody(body, thief.secretKey));
}
