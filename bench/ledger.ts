/**
 * bench/ledger — committed transactions per second end to end (signed Transfer →
 * HTTP → mempool → block in SQLite, against a real `helios gateway` child process)
 * and `ledger verify` transactions per second, each beside OpenSSL's single-core
 * P-256 verify rate measured in the same run. Half the transactions go one per
 * request, half in batches (POST /api/txs).
 *
 *   npm run bench -- ledger [--txs N] [--households N] [--concurrency N] [--batch N]
 */
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { cpus } from 'node:os';
import { canonicalize, normalizeLowS, publicKeyCoordinates, toBase64url, type SignedTx, type TxBody } from '../protocol/index.ts';
import { VerifierPool } from '../gateway/crypto/verifierPool.ts';
import { ChainStore } from '../gateway/ledger/chainStore.ts';
import { verifyChain } from '../gateway/ledger/verify.ts';
import { loadGenesis, dataPaths } from '../gateway/config.ts';
import { openDb } from '../gateway/store/db.ts';
import { newGridDir, startChildGateway } from '../test/helpers/gateway.ts';
import { LeanClient } from './lib/http.ts';
import { benchArgs } from './lib/args.ts';
import { fmt, opensslP256, table } from './lib/reference.ts';

const o = benchArgs('ledger', 'Committed transactions per second end to end, and ledger verify, beside OpenSSL.', {
  txs: { type: 'string', default: '20000', help: 'signed Transfers to commit' },
  households: { type: 'string', default: '200', help: 'households sending them' },
  concurrency: { type: 'string', default: '64', help: 'HTTP requests in flight' },
  batch: { type: 'string', default: '100', help: 'transactions per POST /api/txs' },
});
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
const client = new LeanClient(gw.url, C);
const B = Number(o.batch);

async function drained(): Promise<void> {
  for (;;) {
    const h = await (await fetch(gw.url + '/api/health')).json() as { pending: number };
    if (h.pending === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Send transactions [from, to) and wait until all are in blocks. Each connection
 * sends the transactions of its own households, in nonce order (as a wallet does),
 * one per request or `batch` per request to POST /api/txs.
 */
async function phase(from: number, to: number, batch: number) {
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await Promise.all(Array.from({ length: C }, async (_, w) => {
    const mine: number[] = [];
    for (let i = from; i < to; i++) if ((i % H) % C === w) mine.push(i);
    if (batch <= 1) {
      for (const i of mine) {
        const res = await client.post('/api/tx', payloads[i]);
        if (res.status !== 202) throw new Error(`tx ${i} refused: ${res.status} ${res.text}`);
      }
    } else {
      for (let k = 0; k < mine.length; k += batch) {
        const res = await client.post('/api/txs', '[' + mine.slice(k, k + batch).map((i) => payloads[i]).join(',') + ']');
        const r = JSON.parse(res.text) as { rejected: number };
        if (res.status !== 200 || r.rejected) throw new Error(`batch refused: ${res.status} ${res.text.slice(0, 300)}`);
      }
    }
  }));
  await drained();
  const secs = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rate: (to - from) / secs, clientCores: (cpu.user + cpu.system) / 1e6 / secs };
}

const single = await phase(0, Math.floor(N / 2), 1);
const batched = await phase(Math.floor(N / 2), N, B);
const rss = Number((await import('node:fs')).readFileSync(`/proc/${gw.child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
client.close();
await gw.kill();


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
  [`committed end to end, one per POST /api/tx (client used ${fmt(single.clientCores, 2)} cores)`, fmt(single.rate), fmt(single.rate / ossl.verifyPerSec, 2), '≥ 0.30'],
  [`committed end to end, ${B} per POST /api/txs (client used ${fmt(batched.clientCores, 2)} cores)`, fmt(batched.rate), fmt(batched.rate / ossl.verifyPerSec, 2), '≥ 0.30'],
  [`ledger verify (${report.blocks} blocks, ${cpus().length} verify workers)`, fmt(verifyRate), fmt(verifyRate / ossl.verifyPerSec, 2), '≥ 0.50'],
]));
console.log(`\ngateway peak RSS ${fmt(rss)} MiB; ${report.blocks} blocks, ${fmt(report.txs)} transactions, verify took ${fmt(report.ms / 1000, 2)} s`);

function jwkXY(publicKey: string) {
  const { x, y } = publicKeyCoordinates(publicKey);
  return { x: toBase64url(x), y: toBase64url(y) };
}
