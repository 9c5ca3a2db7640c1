/**
 * The ledger's HTTP API on a real gateway (real SQLite file, real HTTP): good
 * transactions commit; each kind of bad input gets its code and leaves the chain
 * exactly as it was.
 */
import test from 'ava';
import { canonicalize, generateKeyPair, type SignedTx } from '../../../protocol/index.ts';
import { txId } from '../../../gateway/ledger/block.ts';
import { Gateway } from '../../../gateway/gateway.ts';
import { silentLogger } from '../../../gateway/log.ts';
import { signTx } from '../../../gateway/ledger/sign.ts';
import { http, newGridDir } from '../../helpers/gateway.ts';
import { testEntropy } from '../../helpers/grid.ts';

const grid = newGridDir({ blockPeriodMs: 100 });
const [zarak, asad] = grid.households;
const gw = await Gateway.start({ dataDir: grid.dir, httpPort: 0, log: silentLogger });
test.after.always(() => gw.stop());

interface Snapshot { height: number; root: string; balances: string }
async function snapshot(): Promise<Snapshot> {
  const head = await http<{ height: number; header?: { stateRoot: string } }>(gw.httpUrl + '/api/chain/head');
  const parts = await http<unknown[]>(gw.httpUrl + '/api/participants', 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
  return { height: head.body.height, root: gw.ledger.state.root(), balances: JSON.stringify(parts.body) };
}

test.serial('a signed transfer commits, and its status, block and balances say so', async (t) => {
  const tx = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 3_000_000, memo: 'one unit' });
  const r = await http<{ id: string; status: string; height: number }>(gw.httpUrl + '/api/tx?wait=commit', 'POST', tx);
  t.is(r.status, 200);
  t.is(r.body.status, 'committed');
  const s = await http<{ status: string; height: number; tx: SignedTx }>(gw.httpUrl + `/api/tx/${r.body.id}`);
  t.is(s.body.status, 'committed');
  t.deepEqual(s.body.tx, tx);
  const b = await http<{ txs: SignedTx[] }>(gw.httpUrl + `/api/chain/blocks/${r.body.height}`);
  t.true(b.body.txs.some((x) => canonicalize(x) === canonicalize(tx)));
  const z = await http<{ balanceMicroHec: number }>(gw.httpUrl + `/api/participants/${zarak.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
  t.is(z.body.balanceMicroHec, 103_000_000);
  const a = await http<{ balanceMicroHec: number; nextNonce: number }>(gw.httpUrl + `/api/participants/${asad.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
  t.is(a.body.balanceMicroHec, 47_000_000);
  t.is(a.body.nextNonce, 2);
});

const cases: Array<[string, () => { body: unknown; raw?: string }, number, string, boolean]> = [
  ['malformed JSON', () => ({ body: undefined, raw: '{"body": {"type": "Transfer",' }), 400, 'E_MALFORMED_JSON', false],
  ['duplicate keys', () => ({ body: undefined, raw: '{"body":{"type":"Transfer","type":"Mint"},"sig":"x"}' }), 400, 'E_DUPLICATE_KEY', false],
  ['unknown type', () => {
    const tx = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 });
    asad.nonce--;
    return { body: { ...tx, body: { ...tx.body, type: 'Steal' } } };
  }, 400, 'E_UNKNOWN_TYPE', false],
  ['bad signature', () => {
    const tx = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 });
    asad.nonce--;
    return { body: { ...tx, body: { ...tx.body, amountMicroHec: 2 } } };
  }, 401, 'E_BAD_SIGNATURE', true],
  ['wrong nonce', () => {
    asad.nonce += 4;
    const tx = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 });
    asad.nonce -= 5;
    return { body: tx };
  }, 409, 'E_BAD_NONCE', true],
  ['overdraft', () => {
    const tx = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 48_000_000 });
    asad.nonce--;
    return { body: tx };
  }, 402, 'E_INSUFFICIENT_BALANCE', true],
  ['unknown recipient', () => {
    const tx = grid.tx(asad, { type: 'Transfer', to: 'nobody@example.org', amountMicroHec: 1 });
    asad.nonce--;
    return { body: tx };
  }, 404, 'E_UNKNOWN_PARTICIPANT', true],
  ['unknown signer', () => {
    const stranger = generateKeyPair(testEntropy(4242));
    return { body: signTx({ type: 'Transfer', to: zarak.email, amountMicroHec: 1 }, stranger, { grid: grid.genesis.grid, nonce: 1, t: Date.now() }) };
  }, 403, 'E_UNKNOWN_SIGNER', true],
  ['a float amount', () => {
    const tx = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 });
    asad.nonce--;
    return { body: undefined, raw: JSON.stringify(tx).replace('"amountMicroHec":1', '"amountMicroHec":1.5') };
  }, 400, 'E_NOT_INTEGER', false],
  ['oversized body', () => ({ body: undefined, raw: JSON.stringify({ body: { type: 'Transfer', memo: 'x'.repeat(70_000) }, sig: 'x' }) }), 413, 'E_TOO_LARGE', false],
  ['a consumer minting', () => {
    const tx = grid.tx(asad, { type: 'Mint', to: asad.email, amountMicroHec: 1 });
    asad.nonce--;
    return { body: tx };
  }, 403, 'E_NOT_AUTHORITY', true],
];

for (const [name, make, status, code, tracked] of cases) {
  test.serial(`bad input — ${name}: ${status} ${code}, chain unchanged`, async (t) => {
    const before = await snapshot();
    const { body, raw } = make();
    const r = await http<{ code: string; message: string }>(gw.httpUrl + '/api/tx', 'POST', raw ?? body);
    t.is(r.status, status, JSON.stringify(r.body));
    t.is(r.body.code, code);
    t.true(r.body.message.length > 10, 'the message says what is wrong');
    await new Promise((res) => setTimeout(res, 250)); // a block period or two
    t.deepEqual(await snapshot(), before);
    if (tracked) {
      const id = txId(body as SignedTx);
      const s = await http<{ status: string; code: string }>(gw.httpUrl + `/api/tx/${id}`);
      t.deepEqual([s.body.status, s.body.code], ['rejected', code]);
    }
  });
}

test.serial('a batch (POST /api/txs) admits each transaction on its own, in order; a bad one is refused alone', async (t) => {
  const good1 = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1_000 });
  const good2 = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 2_000 });
  const overdraft = grid.tx(zarak, { type: 'Transfer', to: asad.email, amountMicroHec: 999_000_000 });
  zarak.nonce--;
  const before = (await http<{ balanceMicroHec: number }>(gw.httpUrl + `/api/participants/${zarak.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.balanceMicroHec;
  const r = await http<{ accepted: number; rejected: number; results: Array<{ id?: string; status: string; code?: string }> }>(gw.httpUrl + '/api/txs', 'POST', [good1, overdraft, good2]);
  t.is(r.status, 200);
  t.deepEqual(r.body.results.map((x) => x.status === 'rejected' ? x.code : x.status), ['pending', 'E_INSUFFICIENT_BALANCE', 'pending']);
  t.deepEqual([r.body.accepted, r.body.rejected], [2, 1]);
  for (let i = 0; i < 50 && (await http<{ status: string }>(gw.httpUrl + `/api/tx/${r.body.results[2].id}`)).body.status !== 'committed'; i++) await new Promise((res) => setTimeout(res, 50));
  const after = (await http<{ balanceMicroHec: number }>(gw.httpUrl + `/api/participants/${zarak.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.balanceMicroHec;
  t.is(after - before, 3_000, 'both good transfers, in nonce order, and nothing of the refused one');
  const notArray = await http<{ code: string }>(gw.httpUrl + '/api/txs', 'POST', { body: {} });
  t.deepEqual([notArray.status, notArray.body.code], [400, 'E_WRONG_TYPE']);
});

test.serial('operator calls need the operator secret', async (t) => {
  const key = generateKeyPair(testEntropy(77));
  const fields = { type: 'RegisterParticipant', name: 'Bilal', email: 'bilal@example.org', role: 'consumer', publicKey: key.publicKey };
  const none = await http<{ code: string }>(gw.httpUrl + '/api/authority/tx', 'POST', fields);
  t.deepEqual([none.status, none.body.code], [401, 'E_UNAUTHENTICATED']);
  const wrong = await http<{ code: string }>(gw.httpUrl + '/api/authority/tx', 'POST', fields, { authorization: 'Bearer nope' });
  t.deepEqual([wrong.status, wrong.body.code], [403, 'E_NOT_AUTHORIZED']);
  const ok = await http<{ status: string }>(gw.httpUrl + '/api/authority/tx?wait=commit', 'POST', fields, { authorization: `Bearer ${grid.operatorSecret}` });
  t.is(ok.body.status, 'committed');
  const p = await http<{ role: string }>(gw.httpUrl + '/api/participants/bilal@example.org', 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
  t.is(p.body.role, 'consumer');
  const dup = await http<{ code: string }>(gw.httpUrl + '/api/authority/tx', 'POST', fields, { authorization: `Bearer ${grid.operatorSecret}` });
  t.deepEqual([dup.status, dup.body.code], [409, 'E_PARTICIPANT_EXISTS']);
});

test.serial('an operator batch (POST /api/authority/txs) checks and signs each on its own, in order; a bad one is refused alone', async (t) => {
  const auth = { authorization: `Bearer ${grid.operatorSecret}` };
  const reg = (name: string, seed: number) => ({ type: 'RegisterParticipant', name, email: `${name.toLowerCase()}@example.org`, role: 'prosumer', publicKey: generateKeyPair(testEntropy(seed)).publicKey });
  const list = [reg('Dana', 81), reg('Bilal', 82), { type: 'Transfer', to: zarak.email, amountMicroHec: 1 }, { ...reg('Esha', 83), role: 'landlord' }, reg('Farah', 84)];
  const none = await http<{ code: string }>(gw.httpUrl + '/api/authority/txs', 'POST', list);
  t.deepEqual([none.status, none.body.code], [401, 'E_UNAUTHENTICATED']);
  const r = await http<{ accepted: number; rejected: number; results: Array<{ id?: string; status: string; code?: string }> }>(gw.httpUrl + '/api/authority/txs', 'POST', list, auth);
  t.is(r.status, 200);
  t.deepEqual(r.body.results.map((x) => x.status === 'rejected' ? x.code : x.status), ['pending', 'E_PARTICIPANT_EXISTS', 'E_UNKNOWN_TYPE', 'E_BAD_FORMAT', 'pending']);
  t.deepEqual([r.body.accepted, r.body.rejected], [2, 3]);
  for (let i = 0; i < 50 && (await http<{ status: string }>(gw.httpUrl + `/api/tx/${r.body.results[4].id}`)).body.status !== 'committed'; i++) await new Promise((res) => setTimeout(res, 50));
  t.is((await http(gw.httpUrl + '/api/participants/dana@example.org', 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).status, 200);
  t.is((await http(gw.httpUrl + '/api/participants/farah@example.org', 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).status, 200);
  t.is((await http(gw.httpUrl + '/api/participants/esha@example.org', 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).status, 404, 'the refused one changed nothing');
  const notArray = await http<{ code: string }>(gw.httpUrl + '/api/authority/txs', 'POST', reg('Gul', 85), auth);
  t.deepEqual([notArray.status, notArray.body.code], [400, 'E_WRONG_TYPE']);
});

test.serial('unknown resources are 404 with a code', async (t) => {
  t.is((await http<{ code: string }>(gw.httpUrl + `/api/tx/${'a'.repeat(64)}`)).body.code, 'E_NOT_FOUND');
  t.is((await http<{ code: string }>(gw.httpUrl + '/api/participants/ghost@example.org', 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.code, 'E_UNKNOWN_PARTICIPANT');
  t.is((await http<{ code: string }>(gw.httpUrl + '/api/chain/blocks/999999')).body.code, 'E_NOT_FOUND');
  const bad = await http<{ code: string }>(gw.httpUrl + '/api/chain/blocks/minus-one');
  t.deepEqual([bad.status, bad.body.code], [400, 'E_BAD_REQUEST']);
});
