/**
 * Broker limits the MQTT library does not enforce itself.
 *
 * Packet size: the MQTT parser would buffer whatever a fixed header announces (up
 * to 256 MiB, [MQTT-2.2.3]). FrameGuard reads each packet's fixed header as bytes
 * stream in and cuts the connection as soon as one announces more than the limit,
 * before the body is buffered.
 *
 * Message rate: a token bucket per client.
 */
import { Duplex } from 'node:stream';

export class FrameGuard {
  /** 0: expecting a packet type byte; 1..4: reading the length varint; 5: inside a body. */
  private state = 0;
  private length = 0;
  private multiplier = 1;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Feed bytes; returns the announced size of the first packet over the limit, or 0. */
  feed(chunk: Uint8Array): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 0) {
        this.state = 1;
        this.length = 0;
        this.multiplier = 1;
        i++;
      } else if (this.state >= 1 && this.state <= 4) {
        const b = chunk[i++];
        this.length += (b & 127) * this.multiplier;
        this.multiplier *= 128;
        if (b & 128) {
          this.state++;
          if (this.state > 4) return Number.MAX_SAFE_INTEGER; // malformed length: more than 4 bytes
        } else {
          if (this.length + 2 > this.maxPacketBytes) return this.length;
          this.remaining = this.length;
          this.state = this.remaining === 0 ? 0 : 5;
        }
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 0;
      }
    }
    return 0;
  }
}

/**
 * Wraps a client connection so packets over `maxPacketBytes` close it. Everything
 * else passes through untouched, in both directions.
 */
export function guardConnection(conn: Duplex, maxPacketBytes: number, onTooLarge: (announced: number) => void): Duplex {
  const guard = new FrameGuard(maxPacketBytes);
  let tripped = false;
  const wrapped: Duplex = new Duplex({
    read() {
      conn.resume();
    },
    write(chunk, encoding, cb) {
      conn.write(chunk, encoding, cb);
    },
    // Aedes corks a client's stream around a burst (CONNACK, SUBACKs, retained messages):
    // pass the burst on as one socket write, not one system call per packet.
    writev(chunks, cb) {
      conn.cork();
      chunks.forEach(({ chunk, encoding }, i) => conn.write(chunk, encoding, i === chunks.length - 1 ? cb : undefined));
      conn.uncork();
    },
    final(cb) {
      conn.end(cb);
    },
    destroy(err, cb) {
      conn.destroy(err ?? undefined);
      cb(err);
    },
  });
  conn.on('data', (chunk: Buffer) => {
    if (tripped) return;
    const over = guard.feed(chunk);
    if (over) {
      tripped = true;
      onTooLarge(over);
      conn.destroy();
      wrapped.destroy();
      return;
    }
    if (!wrapped.push(chunk)) conn.pause();
  });
  conn.on('end', () => wrapped.push(null));
  conn.on('close', () => wrapped.destroy());
  conn.on('error', (e) => wrapped.destroy(e));
  const c = conn as unknown as { remoteAddress?: string; remotePort?: number };
  Object.assign(wrapped, { remoteAddress: c.remoteAddress, remotePort: c.remotePort });
  return wrapped;
}

/** Token bucket: `ratePerSec` sustained, bursts up to ratePerSec × burstSec. Time comes from the caller. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** `maxIds` bounds memory where ids are not clients that leave (source addresses): the oldest is forgotten first. */
  constructor(private readonly ratePerSec: number, private readonly burstSec: number, private readonly maxIds = Infinity) {}

  /** Take one token for `id` at time `now` (ms); false when the client is over its rate. */
  take(id: string, now: number): boolean {
    const cap = this.ratePerSec * this.burstSec;
    let b = this.buckets.get(id);
    if (!b) {
      if (this.buckets.size >= this.maxIds) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: cap, at: now };
    }
    b.tokens = Math.min(cap, b.tokens + ((now - b.at) / 1000) * this.ratePerSec);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(id, b);
      return false;
    }
    b.tokens -= 1;
    this.buckets.set(id, b);
    return true;
  }

  forget(id: string): void {
    this.buckets.delete(id);
  }
}
