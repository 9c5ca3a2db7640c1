/**
 * Collects signature checks that arrive close together (one event-loop turn, or
 * `maxBatch` items) and sends them to the worker pool as one batch, so the main
 * thread only parses, applies rules and writes while other cores verify.
 */
import { fromBase64url } from '../../protocol/index.ts';
import { verifyP256 } from '../../shared/p256-node.js';
import type { VerifierPool, VerifyItem } from './verifierPool.ts';

function decodeSig(sig: string): Uint8Array {
  try {
    return fromBase64url(sig);
  } catch {
    return new Uint8Array(0);
  }
}

export class BatchVerifier {
  private batch: Array<{ item: VerifyItem; resolve(ok: boolean): void; reject(e: Error): void }> = [];
  private scheduled = false;

  /**
   * @param inlineBelow batches smaller than this are verified here: handing one
   *   signature to a worker costs more than checking it (bench/ledger: with one HTTP
   *   request per event-loop turn, postMessage alone took 14 % of the main thread).
   */
  constructor(private readonly pool: VerifierPool, private readonly maxBatch = 512, private readonly inlineBelow = 4) {}

  verify(item: VerifyItem): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.batch.push({ item, resolve, reject });
      if (this.batch.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const b = this.batch;
    if (!b.length) return;
    this.batch = [];
    if (b.length < this.inlineBelow || this.pool.size === 0) {
      for (const x of b) x.resolve(verifyP256(x.item.publicKey, x.item.message, decodeSig(x.item.sig)));
      return;
    }
    this.pool.verify(b.map((x) => x.item)).then(
      (res) => b.forEach((x, i) => x.resolve(res[i])),
      (e: Error) => b.forEach((x) => x.reject(e)),
    );
  }
}
