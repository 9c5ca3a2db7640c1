/** Chain, transactions and participants over HTTP. */
import type { FastifyInstance } from 'fastify';
import { fail, MAX_TX_BYTES, signed, TxBody, canonicalize, parseJson, type Clock, type SignedTx } from '../../../protocol/index.ts';
import type { Ledger, TxStatus } from '../../ledger/ledger.ts';
import { keys, type MeterEntry, type ParticipantEntry } from '../../ledger/entities.ts';
import type { Logger } from '../../log.ts';
import { mayRead, readerOf, type AuthDeps } from '../auth.ts';

const SignedTxSchema = signed(TxBody);

export interface LedgerRoutesDeps {
  ledger: Ledger;
  clock: Clock;
  log: Logger;
  auth: AuthDeps;
}

/** Resolves when the transaction is committed or rejected, or after timeoutMs of clock time. */
export function waitForTx(ledger: Ledger, clock: Clock, id: string, timeoutMs: number): Promise<TxStatus> {
  return new Promise((resolve) => {
    const done = (s: TxStatus) => {
      ledger.off('block', onBlock);
      ledger.off('rejected', onRejected);
      clock.clearTimeout(timer);
      resolve(s);
    };
    const check = () => {
      const s = ledger.status(id);
      if (s.status === 'committed' || s.status === 'rejected') done(s);
    };
    const onBlock = () => check();
    const onRejected = (r: { id: string }) => { if (r.id === id) check(); };
    const timer = clock.setTimeout(() => done(ledger.status(id)), timeoutMs);
    ledger.on('block', onBlock);
    ledger.on('rejected', onRejected);
    check();
  });
}

function participantView(ledger: Ledger, p: ParticipantEntry) {
  return {
    name: p.name, email: p.email, role: p.role, keyId: p.keyId, publicKey: p.publicKey,
    balanceMicroHec: p.balanceMicroHec, escrowMicroHec: p.escrowMicroHec, nonce: p.nonce,
    nextNonce: ledger.nextNonce(p.keyId), meters: p.meters, since: p.since,
  };
}

export function ledgerRoutes(app: FastifyInstance, { ledger, clock, log, auth }: LedgerRoutesDeps): void {
  app.post('/api/tx', {
    schema: { querystring: { type: 'object', properties: { wait: { type: 'string', enum: ['commit'] }, timeoutMs: { type: 'integer', minimum: 0, maximum: 600_000 } }, additionalProperties: false } },
  }, async (req, reply) => {
    const size = canonicalize(req.body ?? null).length;
    if (size > MAX_TX_BYTES) fail('E_TOO_LARGE', `transaction is ${size} bytes; the limit is ${MAX_TX_BYTES}`);
    const tx = SignedTxSchema.parse(req.body, '') as SignedTx;
    const id = await ledger.submitAsync(tx, () => clock.now());
    log.info('tx accepted', { id, type: tx.body.type, signer: tx.body.signer, nonce: tx.body.nonce });
    const q = req.query as { wait?: string; timeoutMs?: number };
    if (q.wait === 'commit') {
      const s = await waitForTx(ledger, clock, id, q.timeoutMs ?? 30_000);
      if (s.status === 'rejected') fail(s.code, s.message);
      if (s.status === 'committed') return reply.status(200).send({ id, ...s });
      return reply.status(202).send({ id, status: 'pending' });
    }
    return reply.status(202).send({ id, status: 'pending' });
  });

  // Many transactions in one request (a wallet catching up, another gateway relaying): each is
  // checked and admitted on its own, in the order given; one refusal does not stop the rest.
  app.post('/api/txs', { bodyLimit: 4 * 1024 * 1024 }, async (req) => {
    const list = req.body;
    if (!Array.isArray(list)) fail('E_WRONG_TYPE', 'send a JSON array of signed transactions');
    if (list.length > 1000) fail('E_TOO_LARGE', `${list.length} transactions in one request; at most 1000`);
    const now = () => clock.now();
    const results = await Promise.all(list.map(async (item, i) => {
      try {
        const size = canonicalize(item ?? null).length;
        if (size > MAX_TX_BYTES) fail('E_TOO_LARGE', `transaction ${i} is ${size} bytes; the limit is ${MAX_TX_BYTES}`);
        const tx = SignedTxSchema.parse(item, `[${i}]`) as SignedTx;
        return { id: await ledger.submitAsync(tx, now), status: 'pending' as const };
      } catch (e) {
        const err = e as { code?: string; message: string };
        return { status: 'rejected' as const, code: err.code ?? 'E_INTERNAL', message: err.message };
      }
    }));
    const accepted = results.filter((r) => r.status === 'pending').length;
    log.info('tx batch', { submitted: list.length, accepted });
    return { accepted, rejected: list.length - accepted, results };
  });

  app.get('/api/tx/:id', { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, required: ['id'] } } }, async (req) => {
    const { id } = req.params as { id: string };
    const s = ledger.status(id);
    if (s.status === 'unknown') fail('E_NOT_FOUND', `no transaction ${id} is known to this gateway`);
    if (s.status === 'committed') {
      const row = ledger.store.txById(id)!;
      return { id, ...s, tx: parseJson(row.tx) };
    }
    return { id, ...s };
  });

  app.get('/api/chain/head', async () => {
    const tip = ledger.tip;
    if (tip.height === 0) return { height: 0, hash: ledger.genesisHash, genesis: ledger.genesis };
    const row = ledger.store.blockRow(tip.height)!;
    return { height: tip.height, hash: row.hash, header: parseJson(row.header), sig: row.sig };
  });

  app.get('/api/chain/blocks/:height', { schema: { params: { type: 'object', properties: { height: { type: 'integer', minimum: 0 } }, required: ['height'] } } }, async (req) => {
    const { height } = req.params as { height: number };
    if (height === 0) return { height: 0, hash: ledger.genesisHash, genesis: ledger.genesis };
    const b = ledger.store.loadBlock(height);
    if (!b) fail('E_NOT_FOUND', `no block at height ${height}; the head is at ${ledger.tip.height}`);
    return { height, hash: b.hash, header: b.header, sig: b.sig, txs: b.txs };
  });

  app.get('/api/genesis', async () => ledger.genesis);

  // Household-private (docs/api.md, "Who may read what"): the operator sees every household, a household itself.
  app.get('/api/participants', async (req) => {
    const r = await readerOf(req, auth);
    return ledger.state.entries<ParticipantEntry>('participant/')
      .filter(([, p]) => r.kind === 'operator' || p.email === r.email)
      .map(([, p]) => participantView(ledger, p));
  });

  app.get('/api/participants/:email', { schema: { params: { type: 'object', properties: { email: { type: 'string', maxLength: 254 } }, required: ['email'] } } }, async (req) => {
    const { email } = req.params as { email: string };
    mayRead(await readerOf(req, auth), email.toLowerCase(), `participant ${email}`);
    const p = ledger.state.get<ParticipantEntry>(keys.participant(email.toLowerCase()));
    if (!p) fail('E_UNKNOWN_PARTICIPANT', `no participant is registered as ${email}`);
    return participantView(ledger, p);
  });

  app.get('/api/accounts/:keyId/nonce', { schema: { params: { type: 'object', properties: { keyId: { type: 'string', pattern: '^[0-9a-f]{32}$' } }, required: ['keyId'] } } }, async (req) => {
    const { keyId } = req.params as { keyId: string };
    return { keyId, nextNonce: ledger.nextNonce(keyId) };
  });

  app.get('/api/authorities', async () => ledger.genesis.authorities.map((a) => ({ ...a, nextNonce: ledger.nextNonce(a.keyId) })));

  // t: the gateway's clock, which signed tokens' windows are checked against (an accelerated demo clock runs ahead of the wall).
  app.get('/api/health', async () => ({ ok: true, grid: ledger.genesis.grid, height: ledger.tip.height, pending: ledger.mempool.size, t: clock.now() }));

  // Meter registry as recorded on the ledger (the broker adds live status).
  app.get('/api/ledger/meters/:id', { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' } }, required: ['id'] } } }, async (req) => {
    const { id } = req.params as { id: string };
    const r = await readerOf(req, auth);
    const m = ledger.state.get<MeterEntry>(keys.meter(id));
    if (!m) fail('E_UNKNOWN_METER', `meter ${id} is not enrolled`);
    mayRead(r, m.participant, `meter ${id}`);
    return m;
  });
}
