/**
 * bench/ledger — committed transactions per second end to end (signed Transfer →
 * HTTP → mempool → block in SQLite, against a real `helios gateway` child process)
 * and `ledger verify` transactions per second, each beside OpenSSL's single-core
 * P-256 verify rate measured in the same run.
 *
 *   npm run bench -- ledger [--txs N] [--households N] [--concurrency N]
 */
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { canonicalize, normalizeLowS, publicKeyCoordinates, toBase64url, type SignedTx, type TxBody } from '../protocol/index.ts';
import { VerifierPool } from '../gateway/crypto/verifierPool.ts';
import { ChainStore } from '../gateway/ledger/chainStore.ts';
import { verifyChain } from '../gateway/ledger/verify.ts';
import { loadGenesis, dataPaths } from '../gateway/config.ts';
import { openDb } from '../gateway/store/db.ts';
import { newGridDir, startChildGateway } from '../test/helpers/gateway.ts';
import { fmt, opensslP256, table } from './lib/reference.ts';

const { values: o } = parseArgs({ options: { txs: { type: 'string', default: '20000' }, households: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '64' } } });
const N = Number(o.txs);
const H = Number(o.households);
const C = Number(o.concurrency);

console.log(`bench/ledger — ${fmt(N)} Transfers from ${H} households, ${C} HTTP requests in flight, ${cpus().length} cores\n`);
const ossl = opensslP256(3, 1);

const households = Array.from({ length: H }, (_, i) => ({ name: `House ${i}`, email: `house${i}@example.org`, role: 'consumer' as const, allocationMicroHec: 1_000_000_000 }));
const grid = newGridDir({ blockPeriodMs: 250, households, seed: 7 });

// Sign the load up front with OpenSSL (normalised to low-S), so the client costs little during the run.
const t0sign = Date.now();
const privs = grid.households.map((h) => createPrivateKey({
  key: { kty: 'EC', crv: 'P-256', d: toBase64url(h.key.secretKey), ...jwkXY(h.key.publicKey) }, format: 'jwk',
}));
const txs: SignedTx[] = [];
for (let i = 0; i < N; i++) {
  const k = i % H;
  const h = grid.households[k];
  h.nonce++;
  const body = { type: 'Transfer', grid: grid.genesis.grid, signer: h.key.keyId, nonce: h.nonce, t: Date.now(), to: grid.households[(k + 1) % H].email, amountMicroHec: 1 + (i % 1000) } as TxBody;
  const sig = normalizeLowS(new Uint8Array(nodeSign('sha256', Buffer.from(canonicalize(body)), { key: privs[k], dsaEncoding: 'ieee-p1363' })));
  txs.push({ body, sig: toBase64url(sig) });
}
console.log(`signed ${fmt(N)} transactions in ${fmt((Date.now() - t0sign) / 1000, 1)} s (client side, not measured)`);

const gw = await startChildGateway(grid.dir, [], {}, process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []);
const payloads = txs.map((tx) => JSON.stringify(tx));
// Each connection sends the transactions of its own households, in nonce order (a wallet submits its own in order).
const start = Date.now();
const workers = Array.from({ length: C }, async (_, w) => {
  for (let i = 0; i < N; i++) {
    if ((i % H) % C !== w) continue;
    const res = await fetch(gw.url + '/api/tx', { method: 'POST', headers: { 'content-type': 'application/json' }, body: payloads[i] });
    if (res.status !== 202) throw new Error(`tx ${i} refused: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
});
await Promise.all(workers);
const accepted = Date.now();
for (;;) {
  const h = await (await fetch(gw.url + '/api/health')).json() as { pending: number; height: number };
  if (h.pending === 0) break;
  await new Promise((r) => setTimeout(r, 20));
}
const committedAt = Date.now();
const rss = Number((await import('node:fs')).readFileSync(`/proc/${gw.child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
await gw.kill();

const e2eRate = N / ((committedAt - start) / 1000);
const admitRate = N / ((accepted - start) / 1000);

// ledger verify, in-process, with the worker pool the CLI uses.
const paths = dataPaths(grid.dir);
const db = openDb(paths.db, { readonly: true });
const pool = new VerifierPool(cpus().length);
await pool.verify([]); // workers up
const report = await verifyChain(new ChainStore(db), loadGenesis(paths), { pool });
await pool.close();
db.close();
if (!report.ok) throw new Error(`verify failed: ${JSON.stringify(report.fault)}`);
const verifyRate = report.txs / (report.ms / 1000);

console.log('');
console.log(table(['measure', 'tx/s', 'vs OpenSSL verify (1 core)', 'aim'], [
  ['OpenSSL `speed ecdsap256` verify, 1 core', fmt(ossl.verifyPerSec), '1.00', ''],
  ['admitted to the mempool (HTTP 202)', fmt(admitRate), fmt(admitRate / ossl.verifyPerSec, 2), ''],
  ['committed end to end (HTTP → block)', fmt(e2eRate), fmt(e2eRate / ossl.verifyPerSec, 2), '≥ 0.30'],
  [`ledger verify (${report.blocks} blocks, ${cpus().length} verify workers)`, fmt(verifyRate), fmt(verifyRate / ossl.verifyPerSec, 2), '≥ 0.50'],
]));
console.log(`\ngateway peak RSS ${fmt(rss)} MiB; ${report.blocks} blocks, ${fmt(report.txs)} transactions, verify took ${fmt(report.ms / 1000, 2)} s`);

function jwkXY(publicKey: string) {
  const { x, y } = publicKeyCoordinates(publicKey);
  return { x: toBase64url(x), y: toBase64url(y) };
}
