/**
 * Signature verification spread over worker threads. One core verifies ~12–17k
 * P-256 signatures/s with OpenSSL; readings and chain replay need more, so batches
 * are packed into a few typed arrays (no per-signature cloning) and split across
 * workers. Results come back in order.
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fromBase64url } from '../../protocol/index.ts';
import { verifyP256 } from '../../shared/p256-node.js';

export interface VerifyItem {
  publicKey: string;
  message: Uint8Array;
  /** base64url r‖s */
  sig: string;
}

interface Pending {
  resolve(out: Uint8Array): void;
  reject(e: Error): void;
}

const workerUrl = new URL('./verify-worker.js', import.meta.url);

export class VerifierPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private rr = 0;
  readonly size: number;

  /** size 0 verifies on the calling thread (small deployments, tests). */
  constructor(size = Math.max(1, cpus().length)) {
    this.size = size;
    for (let i = 0; i < size; i++) {
      const w = new Worker(workerUrl);
      w.unref();
      w.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.resolve(out);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  /** Verify many signatures; resolves to one boolean per item, in order. */
  async verify(items: VerifyItem[], chunks = this.size): Promise<boolean[]> {
    if (items.length === 0) return [];
    if (this.size === 0) return items.map((x) => verifyP256(x.publicKey, x.message, decodeSig(x.sig)));
    const per = Math.ceil(items.length / Math.max(1, chunks));
    const parts: Promise<Uint8Array>[] = [];
    for (let i = 0; i < items.length; i += per) parts.push(this.run(items.slice(i, i + per)));
    const outs = await Promise.all(parts);
    const res: boolean[] = [];
    for (const o of outs) for (let i = 0; i < o.length; i++) res.push(o[i] === 1);
    return res;
  }

  private run(items: VerifyItem[]): Promise<Uint8Array> {
    const keys: string[] = [];
    const keyPos = new Map<string, number>();
    const keyIdx = new Uint32Array(items.length);
    const offs = new Uint32Array(items.length + 1);
    let total = 0;
    for (let i = 0; i < items.length; i++) {
      let k = keyPos.get(items[i].publicKey);
      if (k === undefined) {
        k = keys.length;
        keys.push(items[i].publicKey);
        keyPos.set(items[i].publicKey, k);
      }
      keyIdx[i] = k;
      offs[i] = total;
      total += items[i].message.length;
    }
    offs[items.length] = total;
    const buf = new Uint8Array(total);
    const sigs = new Uint8Array(items.length * 64);
    for (let i = 0; i < items.length; i++) {
      buf.set(items[i].message, offs[i]);
      const s = decodeSig(items[i].sig);
      if (s.length === 64) sigs.set(s, i * 64);
      else sigs.fill(0, i * 64, i * 64 + 64); // zero r: always refused
    }
    const id = this.nextId++;
    const w = this.workers[this.rr++ % this.workers.length];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, keys, keyIdx, buf, offs, sigs }, [keyIdx.buffer, buf.buffer, offs.buffer, sigs.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

function decodeSig(sig: string): Uint8Array {
  try {
    return fromBase64url(sig);
  } catch {
    return new Uint8Array(0);
  }
}
