import test from 'ava';
import { canonicalize, generateKeyPair, isHeliosError, type SignedTx } from '../../../protocol/index.ts';
import { applyTx } from '../../../gateway/ledger/rules/index.ts';
import { genesisState } from '../../../gateway/ledger/genesis.ts';
import { txId } from '../../../gateway/ledger/block.ts';
import { Draft, type State } from '../../../gateway/ledger/state.ts';
import { makeGrid, testEntropy } from '../../helpers/grid.ts';

function setup() {
  const grid = makeGrid();
  const state = genesisState(grid.genesis);
  const [zarak, asad] = grid.households;
  const auth = grid.authorities[0];
  const t = grid.genesis.t + 1000;
  let height = 1;
  const apply = (tx: SignedTx) => {
    const d = new Draft(state);
    const events = applyTx(d, tx, { genesis: grid.genesis, height, blockTime: t, txId: txId(tx), seq: height * 100_000 });
    state.apply(d.changes);
    height++;
    return events;
  };
  return { grid, state, zarak, asad, auth, t, apply };
}

/** Applies and expects a refusal with `code`, and that the state did not change. */
function refused(t: import('ava').ExecutionContext, state: State, apply: (tx: SignedTx) => unknown, tx: SignedTx, code: string, message?: RegExp, undo?: () => void) {
  const before = state.root();
  const err = t.throws(() => apply(tx));
  t.true(isHeliosError(err), String(err));
  t.is((err as unknown as { code: string }).code, code);
  if (message) t.regex(err!.message, message);
  t.is(state.root(), before, `${code} must leave the state unchanged`);
  undo?.();
}

const balance = (state: State, email: string) => state.get<{ balanceMicroHec: number }>(`participant/${email}`)!.balanceMicroHec;

test('a transfer moves exactly the amount and bumps the nonce', (t) => {
  const { state, zarak, asad, grid, apply } = setup();
  const events = apply(grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 3_000_000 }));
  t.is(balance(state, asad.email), 47_000_000);
  t.is(balance(state, zarak.email), 103_000_000);
  t.is(state.get<{ nonce: number }>(`participant/${asad.email}`)!.nonce, 1);
  t.deepEqual(events, [{ kind: 'transfer', from: asad.email, to: zarak.email, amountMicroHec: 3_000_000 }]);
});

test('bad transactions are refused with their code and change nothing', (t) => {
  const { state, zarak, asad, auth, grid, apply } = setup();
  refused(t, state, apply, grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 50_000_001 }), 'E_INSUFFICIENT_BALANCE', /has 50000000 µHEC/);
  // The refused transaction used nonce 1: the next one must still be 1.
  asad.nonce = 0;
  refused(t, state, apply, grid.tx(asad, { type: 'Transfer', to: 'nobody@example.org', amountMicroHec: 1 }), 'E_UNKNOWN_PARTICIPANT');
  asad.nonce = 0;
  refused(t, state, apply, grid.tx(asad, { type: 'Transfer', to: asad.email, amountMicroHec: 1 }), 'E_SELF_TRANSFER');
  asad.nonce = 5;
  refused(t, state, apply, grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 }), 'E_BAD_NONCE', /use 1/);
  asad.nonce = 0;
  refused(t, state, apply, grid.tx(asad, { type: 'Mint', to: asad.email, amountMicroHec: 1 }), 'E_NOT_AUTHORITY');
  asad.nonce = 0;
  const stranger = generateKeyPair(testEntropy(99));
  refused(t, state, apply, grid.tx(stranger, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 }), 'E_UNKNOWN_SIGNER');
  const future = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 }, grid.genesis.t + 3_600_000);
  refused(t, state, apply, future, 'E_FUTURE_TX');
  asad.nonce = 0;
  const otherGrid = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 });
  refused(t, state, apply, { ...otherGrid, body: { ...otherGrid.body, grid: 'elsewhere' } } as SignedTx, 'E_WRONG_GRID');
  void auth;
});

test('a replayed transaction (same nonce) is refused', (t) => {
  const { state, zarak, asad, grid, apply } = setup();
  const tx = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 });
  apply(tx);
  refused(t, state, apply, tx, 'E_BAD_NONCE');
});

test('identity: register, enrol and revoke, with the CA checks', (t) => {
  const { state, zarak, auth, grid, apply } = setup();
  const wallet = generateKeyPair(testEntropy(5));
  apply(grid.tx(auth, { type: 'RegisterParticipant', name: 'Bilal', email: 'bilal@example.org', role: 'consumer', publicKey: wallet.publicKey }));
  t.is(state.get<{ role: string }>('participant/bilal@example.org')!.role, 'consumer');
  const undo = () => grid.rewind(auth);
  refused(t, state, apply, grid.tx(auth, { type: 'RegisterParticipant', name: 'B2', email: 'bilal@example.org', role: 'consumer', publicKey: generateKeyPair(testEntropy(6)).publicKey }), 'E_PARTICIPANT_EXISTS', undefined, undo);
  refused(t, state, apply, grid.tx(auth, { type: 'RegisterParticipant', name: 'B3', email: 'b3@example.org', role: 'consumer', publicKey: wallet.publicKey }), 'E_KEY_IN_USE', undefined, undo);

  const meter = generateKeyPair(testEntropy(7));
  const enrol = { type: 'EnrollMeter' as const, meter: meter.keyId, publicKey: meter.publicKey, participant: zarak.email, installer: 'Ines', location: 'garage', pulsesPerKWh: 1000, relay: true };
  refused(t, state, apply, grid.tx(auth, { ...enrol, meter: wallet.keyId }), 'E_METER_ID_MISMATCH', undefined, undo);
  refused(t, state, apply, grid.tx(auth, { ...enrol, participant: 'ghost@example.org' }), 'E_UNKNOWN_PARTICIPANT', undefined, undo);
  apply(grid.tx(auth, enrol));
  t.deepEqual(state.get<{ meters: string[] }>(`participant/${zarak.email}`)!.meters, [meter.keyId]);
  refused(t, state, apply, grid.tx(auth, enrol), 'E_METER_EXISTS', undefined, undo);
  apply(grid.tx(auth, { type: 'RevokeMeter', meter: meter.keyId, reason: 'tampered seal' }));
  t.is(state.get<{ revoked: { reason: string } }>(`meter/${meter.keyId}`)!.revoked.reason, 'tampered seal');
  refused(t, state, apply, grid.tx(auth, { type: 'RevokeMeter', meter: meter.keyId, reason: 'again' }), 'E_METER_REVOKED');
});

test('Mint creates tokens, counts them in the supply and respects the grid limit', (t) => {
  const grid = makeGrid({ maxMintMicroHec: 10_000_000 });
  const state = genesisState(grid.genesis);
  const auth = grid.authorities[0];
  const apply = (tx: SignedTx) => {
    const d = new Draft(state);
    applyTx(d, tx, { genesis: grid.genesis, height: 1, blockTime: grid.genesis.t, txId: txId(tx), seq: 1 });
    state.apply(d.changes);
  };
  const before = state.get<{ mintedMicroHec: number }>('supply')!.mintedMicroHec;
  apply(grid.tx(auth, { type: 'Mint', to: 'asad@example.org', amountMicroHec: 3_000_000, memo: 'paid cash' }));
  t.is(state.get<{ mintedMicroHec: number }>('supply')!.mintedMicroHec, before + 3_000_000);
  refused(t, state, apply, grid.tx(auth, { type: 'Mint', to: 'asad@example.org', amountMicroHec: 10_000_001 }), 'E_MINT_LIMIT');
});

test('state values are frozen: a rule cannot change an entry in place', (t) => {
  const { state, asad } = setup();
  const p = state.get<{ balanceMicroHec: number }>(`participant/${asad.email}`)!;
  t.throws(() => { p.balanceMicroHec = 1; });
  t.is(canonicalize(state.get(`participant/${asad.email}`)).includes('"balanceMicroHec":50000000'), true);
});
