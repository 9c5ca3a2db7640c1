import { createWriteStream } from 'node:fs';
import { cpus } from 'node:os';
import { canonicalize, formatHec, type SignedTx } from '../../protocol/index.ts';
import { dataPaths, loadGenesis } from '../config.ts';
import { VerifierPool } from '../crypto/verifierPool.ts';
import { txId } from '../ledger/block.ts';
import { ChainStore } from '../ledger/chainStore.ts';
import { verifyChain } from '../ledger/verify.ts';
import { openDb } from '../store/db.ts';
import { guard, parse, progress, UsageError } from './util.ts';

export const help = `
helios ledger — check and read the chain in a data directory (works while the gateway runs)

Usage:
  helios ledger verify [--data DIR] [--json]
      Replay from genesis, checking every hash, signature, nonce, rule, root and
      state row. Prints the first bad height and why; exit 1 on any fault.
  helios ledger show [HEIGHT|head] [--data DIR] [--json]
      One block: header and transactions.
  helios ledger export --format jsonl|csv [--out FILE] [--from H] [--to H] [--data DIR]
      jsonl: one line per block with its transactions. csv: one row per transaction.
`;

function open(dataDir: string) {
  const paths = dataPaths(dataDir);
  const genesis = loadGenesis(paths);
  const db = openDb(paths.db, { readonly: true });
  return { paths, genesis, db, store: new ChainStore(db) };
}

export function run(argv: string[]): Promise<number> {
  return guard(help, async () => {
    const [sub, ...rest] = argv;
    if (sub === 'verify') return verify(rest);
    if (sub === 'show') return show(rest);
    if (sub === 'export') return exportChain(rest);
    throw new UsageError(sub ? `unknown ledger command "${sub}"` : 'say what to do: verify, show or export');
  });
}

async function verify(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, { data: { type: 'string', default: 'data' }, json: { type: 'boolean', default: false } });
  const { genesis, db, store } = open(v.data!);
  const pool = new VerifierPool(Math.max(1, cpus().length));
  const total = store.stats().height;
  const bar = v.json ? undefined : progress('verify', total);
  try {
    const r = await verifyChain(store, genesis, { pool, onProgress: (b, t, txs) => bar?.update(b, `blocks, ${txs} txs`) });
    bar?.done();
    if (v.json) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    } else if (r.ok) {
      const rate = r.ms > 0 ? Math.round((r.txs / r.ms) * 1000) : 0;
      process.stdout.write(`OK: ${r.blocks} blocks, ${r.txs} transactions, ${r.readings} readings and ${r.stateEntries} state entries verified in ${(r.ms / 1000).toFixed(1)} s (${rate} tx/s).\n`);
    } else {
      process.stdout.write(`FAULT at height ${r.fault!.height}: ${r.fault!.code}: ${r.fault!.message}\n`);
      if (r.stateFaults.length > 1) {
        process.stdout.write(`${r.stateFaults.length} state rows differ from the replayed state:\n`);
        for (const f of r.stateFaults.slice(0, 20)) process.stdout.write(`  ${f.key} (block ${f.height}): ${f.problem}\n`);
      }
      process.stdout.write(`Verified ${r.blocks} blocks before the fault.\n`);
    }
    return r.ok ? 0 : 1;
  } finally {
    await pool.close();
    db.close();
  }
}

function summary(tx: SignedTx): string {
  const b = tx.body as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of ['email', 'meter', 'participant', 'to', 'seller', 'listing']) if (typeof b[k] === 'string') parts.push(`${k}=${b[k]}`);
  if (typeof b.amountMicroHec === 'number') parts.push(formatHec(b.amountMicroHec));
  if (typeof b.energyMWh === 'number') parts.push(`${b.energyMWh} mWh`);
  return parts.join(' ');
}

async function show(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, { data: { type: 'string', default: 'data' }, json: { type: 'boolean', default: false } }, true);
  const { store, db } = open(v.data!);
  try {
    const which = positionals[0] ?? 'head';
    const height = which === 'head' ? store.stats().height : Number(which);
    if (!Number.isInteger(height) || height < 0) throw new UsageError(`"${which}" is not a block height`);
    if (height === 0) {
      process.stdout.write(`height 0 is genesis; the chain is empty\n`);
      return 0;
    }
    const b = store.loadBlock(height);
    if (!b) {
      process.stderr.write(`no block at height ${height} (head is ${store.stats().height})\n`);
      return 1;
    }
    if (v.json) {
      process.stdout.write(JSON.stringify(b, null, 2) + '\n');
      return 0;
    }
    const h = b.header;
    const lines = [
      `block ${h.height}  ${b.hash}`,
      `  time      ${new Date(h.t).toISOString()}  (slot ${h.slot})`,
      `  author    ${h.author}`,
      `  parent    ${h.parent}`,
      `  txRoot    ${h.txRoot}  (${h.txCount} transactions)`,
      `  readings  ${h.readingsRoot}  (${h.readingsCount} readings)`,
      `  state     ${h.stateRoot}`,
      ...b.txs.map((tx, i) => `  ${String(i).padStart(4)}  ${txId(tx).slice(0, 16)}…  ${tx.body.type.padEnd(20)} nonce ${tx.body.nonce}  ${summary(tx)}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    db.close();
  }
}

function csvCell(s: string | number): string {
  const t = String(s);
  return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

async function exportChain(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, {
    data: { type: 'string', default: 'data' },
    format: { type: 'string' },
    out: { type: 'string' },
    from: { type: 'string', default: '1' },
    to: { type: 'string' },
  });
  if (v.format !== 'jsonl' && v.format !== 'csv') throw new UsageError('--format must be jsonl or csv');
  const { store, db } = open(v.data!);
  const out = v.out ? createWriteStream(v.out) : process.stdout;
  const write = (s: string) => new Promise<void>((resolve) => (out.write(s) ? resolve() : out.once('drain', () => resolve())));
  try {
    const top = v.to ? Number(v.to) : store.stats().height;
    if (v.format === 'csv') await write('height,block_hash,block_time,index,tx_id,type,signer,nonce,tx_time,body,sig\n');
    for (let h = Number(v.from); h <= top; h++) {
      const b = store.loadBlock(h);
      if (!b) continue;
      if (v.format === 'jsonl') {
        await write(canonicalize({ height: h, hash: b.hash, header: b.header, sig: b.sig, txs: b.txs }) + '\n');
      } else {
        for (const [i, tx] of b.txs.entries()) {
          const row = [h, b.hash, new Date(b.header.t).toISOString(), i, txId(tx), tx.body.type, tx.body.signer, tx.body.nonce, new Date(tx.body.t).toISOString(), canonicalize(tx.body), tx.sig];
          await write(row.map(csvCell).join(',') + '\n');
        }
      }
    }
  } finally {
    if (v.out) await new Promise<void>((r) => (out as NodeJS.WritableStream).end(r));
    db.close();
  }
  return 0;
}
