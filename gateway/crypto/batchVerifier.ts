/**
 * Collects signature checks that arrive close together (one event-loop turn, or
 * `maxBatch` items) and sends them to the worker pool as one batch, so the main
 * thread only parses, applies rules and writes while other cores verify.
 */
import type { VerifierPool, VerifyItem } from './verifierPool.ts';

export class BatchVerifier {
  private batch: Array<{ item: VerifyItem; resolve(ok: boolean): void; reject(e: Error): void }> = [];
  private scheduled = false;

  constructor(private readonly pool: VerifierPool, private readonly maxBatch = 512) {}

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
    this.pool.verify(b.map((x) => x.item)).then(
      (res) => b.forEach((x, i) => x.resolve(res[i])),
      (e: Error) => b.forEach((x) => x.reject(e)),
    );
  }
}
