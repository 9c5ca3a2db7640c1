/**
 * `helios ledger verify`: replay the chain from genesis and check everything —
 * every header rule and hash, every signature (blocks and transactions), every
 * transaction rule and nonce, every transaction, readings and state root — then
 * compare the state tables with the replayed state, so an edited row is found
 * wherever it is. Reports the first bad height and why.
 *
 * Transaction signatures are checked on worker threads one chunk ahead of the
 * replay, which runs on the main thread.
 */
import { canonicalize, fromBase64url, isHeliosError, keyIdOf, parseJson, type BlockHeader, type Genesis, type SignedTx } from '../../protocol/index.ts';
import { merkleRootHex } from '../crypto/hash.ts';
import { verifyP256 } from '../../shared/p256-node.js';
import { blockRowProblem, creditRowProblem, parseReading, readingRowProblem, txRowsProblem } from './rows.ts';
import type { VerifierPool, VerifyItem } from '../crypto/verifierPool.ts';
import { prepareTx, replayBlock, tipOf, type Block, type PreparedTx } from './block.ts';
import type { ChainStore } from './chainStore.ts';
import { genesisHash, genesisState } from './genesis.ts';
import { publicKeyOf } from './keys.ts';
import type { ChainTip } from './aura.ts';
import { keys, type MeterEntry, type ParticipantEntry, type StorageEntry, type SupplyEntry, type UtilityEntry } from './entities.ts';
import type { State } from './state.ts';
import { CommittedReadings } from '../market/metered.ts';
import { periodOf } from '../market/period.ts';

export interface Fault {
  height: number;
  code: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  blocks: number;
  txs: number;
  readings: number;
  stateEntries: number;
  fault?: Fault;
  /** Every state row that differs from the replayed state (first fault is the lowest height). */
  stateFaults: Array<{ key: string; height: number; problem: string }>;
  ms: number;
}

export interface VerifyOptions {
  pool?: VerifierPool;
  /** Called as blocks are verified. */
  onProgress?(blocksDone: number, blocksTotal: number, txsDone: number): void;
  /** Transactions per verification chunk. */
  chunkTxs?: number;
}

interface Chunk {
  blocks: Array<{ block: Block; prepared?: PreparedTx[]; error?: Fault; rowProblem?: string }>;
  sigs: Promise<boolean[] | undefined>;
  offsets: number[];
  nextHeight: number;
}

class FaultError extends Error {
  constructor(readonly fault: Fault) {
    super(fault.message);
  }
}

export async function verifyChain(store: ChainStore, genesis: Genesis, opts: VerifyOptions = {}): Promise<VerifyReport> {
  // One read transaction: a consistent snapshot of every table (WAL), however many blocks a
  // running gateway appends meanwhile.
  const own = !store.db.inTransaction;
  if (own) store.db.exec('BEGIN');
  try {
    return await verifySnapshot(store, genesis, opts);
  } finally {
    if (own && store.db.inTransaction) store.db.exec('COMMIT');
  }
}

async function verifySnapshot(store: ChainStore, genesis: Genesis, opts: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const report: VerifyReport = { ok: false, blocks: 0, txs: 0, readings: 0, stateEntries: 0, stateFaults: [], ms: 0 };
  const finish = (fault?: Fault): VerifyReport => {
    report.fault = fault;
    report.ok = !fault && report.stateFaults.length === 0;
    report.ms = Date.now() - started;
    return report;
  };
  const gh = genesisHash(genesis);
  const storedGenesis = store.getMeta('genesis_hash');
  if (storedGenesis !== gh) {
    return finish({ height: 0, code: 'E_WRONG_GRID', message: `the database records genesis ${storedGenesis?.slice(0, 16) ?? '(none)'}…, but genesis.json hashes to ${gh.slice(0, 16)}…` });
  }
  const { height: top } = store.stats();
  const state = genesisState(genesis);
  let tip: ChainTip = { height: 0, hash: gh, slot: -1, t: genesis.t };
  // key id → public key, monotonic: a key id is the hash of its key, so the mapping never changes.
  const keyIndex = new Map<string, string>();
  for (const a of genesis.authorities) keyIndex.set(a.keyId, a.publicKey);
  for (const [, p] of state.entries<{ keyId: string; publicKey: string }>('participant/')) keyIndex.set(p.keyId, p.publicKey);
  const chunkTxs = opts.chunkTxs ?? 4000;
  const readingsAt = new CommittedReadings(store.db);
  // Height of the block that last wrote each state key (0: genesis), to check the state table's height column.
  const lastWrite = new Map<string, number>();

  const load = (from: number): Chunk | undefined => {
    if (from > top) return undefined;
    const blocks: Chunk['blocks'] = [];
    const items: VerifyItem[] = [];
    const offsets: number[] = [];
    let h = from;
    let txs = 0;
    while (h <= top && (txs < chunkTxs || blocks.length === 0) && blocks.length < 2000) {
      const row = store.blockRow(h);
      if (!row) {
        blocks.push({ block: undefined as never, error: { height: h, code: 'E_MISSING_BLOCK', message: `block ${h} is missing (the chain goes up to ${top}); it was deleted` } });
        h++;
        break;
      }
      let block: Block;
      let prepared: PreparedTx[];
      let rowProblem: string | undefined;
      try {
        const header = parseJson(row.header) as unknown as BlockHeader;
        if (canonicalize(header) !== row.header) throw new FaultError({ height: h, code: 'E_BAD_BLOCK_HASH', message: `block ${h}'s stored header is not in canonical form; it was edited` });
        prepared = [];
        const txRows = store.txRowsOf(h);
        for (const r of txRows) {
          const p = prepareTx(parseJson(r.tx) as unknown as SignedTx);
          if (p.id !== r.id) throw new FaultError({ height: h, code: 'E_BAD_TX_ROOT', message: `block ${h}: txs row ${r.id.slice(0, 16)}…'s body no longer hashes to its id; it was edited` });
          prepared.push(p);
        }
        // Checked after the block's hashes and signatures, which name an edit more precisely.
        rowProblem = blockRowProblem(store.blockColumns(h)!, header) ?? txRowsProblem(h, txRows, prepared.map((p) => p.tx.body));
        block = { header, sig: row.sig, hash: row.hash, txs: prepared.map((p) => p.tx) };
      } catch (e) {
        const fault = e instanceof FaultError ? e.fault : { height: h, code: (e as { code?: string }).code ?? 'E_MALFORMED_JSON', message: `block ${h} cannot be read: ${(e as Error).message}` };
        blocks.push({ block: undefined as never, error: fault });
        h++;
        break;
      }
      offsets.push(items.length);
      for (const { tx } of prepared) {
        if (tx.body.type === 'RegisterParticipant') keyIndex.set(hashJsonKeyId(tx.body.publicKey), tx.body.publicKey);
      }
      for (const { tx, bodyText } of prepared) {
        const key = keyIndex.get(tx.body.signer);
        items.push({ publicKey: key ?? '', message: Buffer.from(bodyText), sig: tx.sig });
      }
      txs += block.txs.length;
      blocks.push({ block, prepared, rowProblem });
      h++;
    }
    // Without a pool, replayBlock checks each signature itself.
    const sigs = opts.pool ? opts.pool.verify(items) : Promise.resolve(undefined);
    return { blocks, sigs, offsets, nextHeight: h };
  };

  let chunk = load(1);
  while (chunk) {
    const sigs = await chunk.sigs;
    const next = chunk.blocks.some((b) => b.error) ? undefined : load(chunk.nextHeight);
    for (let i = 0; i < chunk.blocks.length; i++) {
      const { block, prepared, error, rowProblem } = chunk.blocks[i];
      if (error) return finish(error);
      const h = block.header.height;
      if (h !== tip.height + 1) return finish({ height: tip.height + 1, code: 'E_MISSING_BLOCK', message: `block ${tip.height + 1} is missing` });
      const readingRows = store.readingRowsOf(h);
      for (const row of readingRows) {
        const problem = readingRowProblem(row, genesis.grid);
        if (problem) return finish({ height: h, code: 'E_ROW_MISMATCH', message: `block ${h}: ${problem}` });
      }
      const readings = { root: merkleRootHex(readingRows.map((r) => r.envelope)), count: readingRows.length };
      try {
        const { changes } = replayBlock({
          genesis, parent: tip, state, block, prepared, readings,
          signaturesOk: sigs ? sigs.slice(chunk.offsets[i], chunk.offsets[i] + block.txs.length) : undefined,
          publicKeyOf: (keyId, draft) => publicKeyOf(draft, keyId),
        });
        state.apply(changes);
        for (const k of changes.keys()) lastWrite.set(k, h);
      } catch (e) {
        if (!isHeliosError(e)) throw e;
        return finish({ height: h, code: e.code, message: e.message });
      }
      if (rowProblem) return finish({ height: h, code: 'E_ROW_MISMATCH', message: rowProblem });
      const metered = checkMetered(block, readingsAt, genesis);
      if (metered) return finish(metered);
      tip = tipOf(block);
      report.blocks++;
      report.txs += block.txs.length;
      report.readings += readings.count;
      opts.onProgress?.(report.blocks, top, report.txs);
    }
    chunk = next;
  }
  if (tip.height !== top) return finish({ height: tip.height + 1, code: 'E_MISSING_BLOCK', message: `block ${tip.height + 1} is missing` });

  const outside = outsideRowsFault(store, genesis, state, top);
  if (outside) return finish(outside);

  // The state tables must be exactly the replayed state.
  const seen = new Set<string>();
  for (const row of store.allState()) {
    seen.add(row.key);
    const replayed = state.get<object>(row.key);
    const wrote = lastWrite.get(row.key) ?? 0;
    if (replayed === undefined) {
      report.stateFaults.push({ key: row.key, height: row.height, problem: 'row exists in the state table but not in the replayed state (added)' });
    } else if (canonicalize(replayed) !== row.value) {
      report.stateFaults.push({ key: row.key, height: row.height, problem: `row differs from the replayed state (edited): stored ${row.value.slice(0, 120)}, replayed ${canonicalize(replayed).slice(0, 120)}` });
    } else if (row.height !== wrote) {
      report.stateFaults.push({ key: row.key, height: wrote, problem: `column height is ${row.height}, but block ${wrote} last wrote it (edited)` });
    }
  }
  for (const key of state.keys()) {
    if (!seen.has(key)) report.stateFaults.push({ key, height: tip.height, problem: 'row is missing from the state table (deleted)' });
  }
  report.stateEntries = state.size;
  const t = tokenTotals(state);
  if (t.heldMicroHec !== t.mintedMicroHec) {
    report.stateFaults.push({ key: keys.supply, height: tip.height, problem: `tokens are not conserved: balances + escrow + storage fund + utility account = ${t.heldMicroHec} µHEC, minted ${t.mintedMicroHec} µHEC` });
  }
  report.stateFaults.sort((a, b) => a.height - b.height || (a.key < b.key ? -1 : 1));
  if (report.stateFaults.length) {
    const f = report.stateFaults[0];
    return finish({ height: f.height, code: 'E_STATE_MISMATCH', message: `state row "${f.key}" (last written by block ${f.height}): ${f.problem}` });
  }
  return finish();
}

/**
 * Rows outside the chain that the gateway would still act on: readings waiting for
 * the next block (their columns against their envelope, and the envelope against
 * the enrolled meter's key, since the next block would commit them as they are),
 * readings pointing at a block that does not exist, and issued credit tokens (their
 * columns against the token, and the token against its authority's key).
 */
function outsideRowsFault(store: ChainStore, genesis: Genesis, state: State, top: number): Fault | undefined {
  const next = top + 1;
  for (const row of store.txRowsOutside(top)) {
    return { height: Math.min(next, Math.max(1, row.height)), code: 'E_BAD_TX_ROOT', message: `txs row ${row.id.slice(0, 16)}… (${row.type}) says block ${row.height} holds it, but the chain has blocks 1–${top}; the row was edited or added` };
  }
  for (const row of store.readingRowsOutside(top)) {
    if (row.block_height !== null) {
      return { height: Math.min(next, Math.max(1, row.block_height)), code: 'E_BAD_READINGS_ROOT', message: `readings row id ${row.id} (meter ${row.meter}, seq ${row.seq}) says block ${row.block_height} committed it, but the chain has blocks 1–${top}; the row was edited` };
    }
    const problem = readingRowProblem(row, genesis.grid);
    if (problem) return { height: next, code: 'E_ROW_MISMATCH', message: `${problem} (not yet in a block)` };
    const r = parseReading(row);
    if (typeof r === 'string') return { height: next, code: 'E_ROW_MISMATCH', message: r };
    const m = state.get<MeterEntry>(keys.meter(r.body.meter));
    if (!m || !verifyP256(m.publicKey, Buffer.from(canonicalize(r.body)), safeSig(r.sig))) {
      return { height: next, code: 'E_BAD_SIGNATURE', message: `readings row id ${row.id} (meter ${r.body.meter}, seq ${r.body.seq}, not yet in a block): the envelope's signature does not verify with ${m ? "the meter's enrolled key" : 'any enrolled meter'}; the row was edited` };
    }
  }
  const authorities = new Map(genesis.authorities.map((a) => [a.keyId, a.publicKey]));
  for (const row of store.creditRows()) {
    const problem = creditRowProblem(row, genesis.grid, (tok) => {
      const key = authorities.get(tok.body.issuer);
      return key !== undefined && verifyP256(key, Buffer.from(canonicalize(tok.body)), safeSig(tok.sig));
    });
    if (problem) return { height: top, code: 'E_ROW_MISMATCH', message: problem };
  }
  return undefined;
}

function safeSig(s: string): Uint8Array {
  try {
    return fromBase64url(s);
  } catch {
    return new Uint8Array(0);
  }
}

function hashJsonKeyId(publicKey: string): string {
  try {
    return keyIdOf(publicKey);
  } catch {
    return '';
  }
}

/**
 * The conservation invariant: Σ participants' (balance + escrow) + the storage fund
 * + the utility account (docs/market.md §9; it may be negative) = all µHEC ever minted (genesis allocations and Mint). Only Mint creates tokens;
 * every other transaction moves them.
 */
export function tokenTotals(state: Pick<State, 'entries' | 'get'>): { heldMicroHec: number; mintedMicroHec: number } {
  let held = 0;
  for (const [, p] of state.entries<ParticipantEntry>('participant/')) held += p.balanceMicroHec + p.escrowMicroHec;
  held += state.get<StorageEntry>(keys.storage)?.fundMicroHec ?? 0;
  held += state.get<UtilityEntry>(keys.utility)?.balanceMicroHec ?? 0;
  return { heldMicroHec: held, mintedMicroHec: state.get<SupplyEntry>(keys.supply)?.mintedMicroHec ?? 0 };
}

/**
 * Settle's and StorageDeposit's metered figures against the readings committed up to
 * their `readingsHeight` (docs/market.md §8): Settle's must be exactly what those
 * readings say, a deposit at most the export they show.
 */
function checkMetered(block: Block, readings: CommittedReadings, genesis: Genesis): Fault | undefined {
  const h = block.header.height;
  for (const tx of block.txs) {
    const b = tx.body;
    if (b.type === 'Settle') {
      const p = periodOf(b.listing, genesis);
      for (const [i, row] of b.metered.entries()) {
        const e = readings.energy(row.meter, p.deliveryStart, p.deliveryEnd, b.readingsHeight);
        if (e.importMWh !== row.importMWh || e.exportMWh !== row.exportMWh) {
          return { height: h, code: 'E_METERED_MISMATCH', message: `block ${h}: Settle of ${b.listing} says meter ${row.meter} imported ${row.importMWh} and exported ${row.exportMWh} mWh (metered[${i}]), but the readings committed up to block ${b.readingsHeight} say ${e.importMWh} and ${e.exportMWh}` };
        }
      }
    } else if (b.type === 'StorageDeposit') {
      const p = periodOf(b.period, genesis, 'body.period');
      const e = readings.energy(b.meter, p.deliveryStart, p.deliveryEnd, b.readingsHeight);
      if (b.energyMWh > e.exportMWh) {
        return { height: h, code: 'E_METERED_MISMATCH', message: `block ${h}: StorageDeposit credits meter ${b.meter} for ${b.energyMWh} mWh in ${b.period}, but the readings committed up to block ${b.readingsHeight} show an export of ${e.exportMWh} mWh` };
      }
    }
  }
  return undefined;
}
