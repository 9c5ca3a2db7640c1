// Worker thread: verifies packed batches of signatures (see verifierPool.ts).
import { parentPort } from 'node:worker_threads';
import { verifyP256 } from '../../shared/p256-node.js';

parentPort.on('message', ({ id, keys, keyIdx, buf, offs, sigs }) => {
  const n = keyIdx.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = verifyP256(keys[keyIdx[i]], buf.subarray(offs[i], offs[i + 1]), sigs.subarray(i * 64, i * 64 + 64)) ? 1 : 0;
  }
  parentPort.postMessage({ id, out }, [out.buffer]);
});
