import test from 'ava';
import { isHeliosError, signBytes, toBase64url, utf8Encode, canonicalize, type BlockHeader } from '../../../protocol/index.ts';
import { authorOf, compareTips, DoubleSignWatch, slotOf, type ChainTip } from '../../../gateway/ledger/aura.ts';
import { blockHash, prepareTx, produceBlock, replayBlock, tipOf, type Block } from '../../../gateway/ledger/block.ts';
import { genesisHash, genesisState } from '../../../gateway/ledger/genesis.ts';
import { publicKeyOf } from '../../../gateway/ledger/keys.ts';
import type { State } from '../../../gateway/ledger/state.ts';
import { makeGrid } from '../../helpers/grid.ts';

const EMPTY = { root: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', count: 0 };

function threeAuthorities() {
  const grid = makeGrid({ authorities: 3, blockPeriodMs: 1000 });
  const g = grid.genesis;
  const startSlot = slotOf(g.t, g) + 1;
  return { grid, g, startSlot };
}

/** The in-turn authority's key for a slot. */
function keyFor(grid: ReturnType<typeof makeGrid>, slot: number) {
  const id = authorOf(slot, grid.genesis).keyId;
  return grid.authorities.find((a) => a.keyId === id)!;
}

function code(f: () => unknown): string {
  try {
    f();
    return 'OK';
  } catch (e) {
    if (isHeliosError(e)) return e.code;
    throw e;
  }
}

/** Build a chain where each slot's in-turn authority makes the block (some slots skipped). */
function buildChain(skip: Set<number> = new Set()) {
  const { grid, g, startSlot } = threeAuthorities();
  const state = genesisState(g);
  let tip: ChainTip = { height: 0, hash: genesisHash(g), slot: -1, t: g.t };
  const blocks: Block[] = [];
  const [zarak, asad] = grid.households;
  for (let i = 0; i < 9; i++) {
    const slot = startSlot + i;
    if (skip.has(i)) continue;
    const t = slot * g.blockPeriodMs + 10;
    const p = produceBlock({
      genesis: g, parent: tip, state, readings: EMPTY, t, author: keyFor(grid, slot),
      candidates: [prepareTx(grid.tx(i % 2 ? zarak : asad, { type: 'Transfer', to: i % 2 ? asad.email : zarak.email, amountMicroHec: 1000 + i }, t))],
    });
    state.apply(p.changes);
    tip = tipOf(p.block);
    blocks.push(p.block);
  }
  return { grid, g, blocks, finalRoot: state.root() };
}

/** Replays blocks on a fresh node: what another authority does with a chain it receives. */
function replayAll(g: ReturnType<typeof makeGrid>['genesis'], blocks: Block[], now?: number): { state: State; code: string; at: number } {
  const state = genesisState(g);
  let tip: ChainTip = { height: 0, hash: genesisHash(g), slot: -1, t: g.t };
  for (const b of blocks) {
    const c = code(() => {
      const { changes } = replayBlock({ genesis: g, parent: tip, state, block: b, readings: EMPTY, now, publicKeyOf: (k, d) => publicKeyOf(d, k) });
      state.apply(changes);
    });
    if (c !== 'OK') return { state, code: c, at: b.header.height };
    tip = tipOf(b);
  }
  return { state, code: 'OK', at: tip.height };
}

function resign(grid: ReturnType<typeof makeGrid>, header: BlockHeader, signerKeyId = header.author): Block['sig'] {
  const key = grid.authorities.find((a) => a.keyId === signerKeyId)!;
  return toBase64url(signBytes(utf8Encode(canonicalize(header)), key.secretKey));
}

test('three authorities take turns by slot, and another node accepts the chain with the same state', (t) => {
  const { grid, g, blocks, finalRoot } = buildChain();
  t.is(blocks.length, 9);
  const authors = blocks.map((b) => grid.authorities.findIndex((a) => a.keyId === b.header.author));
  // Each authority authored exactly its own slots: authorities[slot mod 3].
  for (const b of blocks) t.is(b.header.author, g.authorities[b.header.slot % 3].keyId);
  t.deepEqual(new Set(authors).size, 3);
  const r = replayAll(g, blocks);
  t.is(r.code, 'OK');
  t.is(r.state.root(), finalRoot);
});

test('empty slots are allowed: the next in-turn authority continues the chain', (t) => {
  const { g, blocks } = buildChain(new Set([2, 3, 7]));
  t.is(blocks.length, 6);
  t.is(replayAll(g, blocks).code, 'OK');
});

test('a block by the wrong authority for its slot is refused (E_WRONG_AUTHOR)', (t) => {
  const { grid, g, blocks } = buildChain();
  const b = blocks[4];
  const intruder = g.authorities.find((a) => a.keyId !== b.header.author)!;
  const header = { ...b.header, author: intruder.keyId };
  const forged: Block = { ...b, header, hash: blockHash(header), sig: resign(grid, header) };
  const r = replayAll(g, [...blocks.slice(0, 4), forged]);
  t.deepEqual([r.code, r.at], ['E_WRONG_AUTHOR', 5]);
});

test('slots must strictly increase (E_SLOT_NOT_INCREASING)', (t) => {
  const { grid, g, blocks } = buildChain(new Set([1]));
  // Block 2 claims its parent's slot, signed by that slot's author.
  const parent = blocks[0];
  const b = blocks[1];
  const header = { ...b.header, slot: parent.header.slot, t: parent.header.t, author: parent.header.author };
  const forged: Block = { ...b, header, hash: blockHash(header), sig: resign(grid, header) };
  const r = replayAll(g, [blocks[0], forged]);
  t.deepEqual([r.code, r.at], ['E_SLOT_NOT_INCREASING', 2]);
});

test('a block from the far future is refused against the local clock (E_FUTURE_BLOCK)', (t) => {
  const { g, blocks } = buildChain();
  const last = blocks[blocks.length - 1];
  t.is(replayAll(g, blocks, last.header.t + 10).code, 'OK');
  const r = replayAll(g, blocks, last.header.t - 3 * g.blockPeriodMs);
  t.is(r.code, 'E_FUTURE_BLOCK');
});

test('a forged signature or an edited header is refused', (t) => {
  const { grid, g, blocks } = buildChain();
  const b = blocks[3];
  const wrongSigner = g.authorities.find((a) => a.keyId !== b.header.author)!.keyId;
  const badSig: Block = { ...b, sig: resign(grid, b.header, wrongSigner) };
  t.is(replayAll(g, [...blocks.slice(0, 3), badSig]).code, 'E_BAD_BLOCK_SIGNATURE');
  const edited = { ...b.header, stateRoot: 'f'.repeat(64) };
  t.is(replayAll(g, [...blocks.slice(0, 3), { ...b, header: edited, hash: blockHash(edited) }]).code, 'E_BAD_BLOCK_SIGNATURE');
  const resigned = { ...b, header: edited, hash: blockHash(edited), sig: resign(grid, edited) };
  t.is(replayAll(g, [...blocks.slice(0, 3), resigned]).code, 'E_BAD_STATE_ROOT', 'even its own author cannot sign a wrong state root');
});

test('two different blocks for one slot by the same author are double signing, with evidence kept', (t) => {
  const { grid, blocks } = buildChain();
  const watch = new DoubleSignWatch();
  for (const b of blocks) watch.observe(b.header, b.hash);
  watch.observe(blocks[2].header, blocks[2].hash); // the same block again is fine
  const twin = { ...blocks[2].header, txCount: 0, txRoot: EMPTY.root };
  const err = t.throws(() => watch.observe(twin, blockHash(twin)));
  t.is((err as { code?: string }).code, 'E_DOUBLE_SIGN');
  t.is(watch.evidence.length, 1);
  t.is(watch.evidence[0].author, blocks[2].header.author);
  void grid;
});

test('fork choice: more blocks win, then fewer empty slots, then the lower hash', (t) => {
  const a: ChainTip = { height: 10, hash: 'b'.repeat(64), slot: 100, t: 0 };
  t.true(compareTips({ ...a, height: 11, slot: 120 }, a) > 0);
  t.true(compareTips({ ...a, slot: 99 }, a) > 0);
  t.true(compareTips({ ...a, hash: 'a'.repeat(64) }, a) > 0);
  t.is(compareTips(a, a), 0);
});
