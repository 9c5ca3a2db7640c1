/**
 * Operator actions that the gateway signs with its authority key: registering
 * households, enrolling and revoking meters, minting. Authenticated with the
 * operator secret (Authorization: Bearer …).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fail, TX_SHAPES, type Clock, type TxType } from '../../../protocol/index.ts';
import type { AuthoritySigner } from '../../authority.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { TxFields } from '../../ledger/sign.ts';
import type { Logger } from '../../log.ts';
import type { SecretChecker } from '../../secrets.ts';
import { sourceOf } from '../../source.ts';
import { waitForTx } from './ledger.ts';

/** Types an operator may ask the gateway to sign through the API. */
const OPERATOR_TX = new Set<TxType>(['RegisterParticipant', 'EnrollMeter', 'RevokeMeter', 'Mint']);

export interface AuthorityRoutesDeps {
  ledger: Ledger;
  signer: AuthoritySigner;
  operator: SecretChecker;
  clock: Clock;
  log: Logger;
}

export async function requireOperator(req: FastifyRequest, operator: SecretChecker): Promise<void> {
  const h = req.headers.authorization;
  const token = h?.startsWith('Bearer ') ? h.slice(7) : undefined;
  if (!token) fail('E_UNAUTHENTICATED', 'this call needs the operator secret: send "Authorization: Bearer <secret>" (it is in <data>/operator.secret)');
  if (!(await operator.check(token, sourceOf(req.ip)))) fail('E_NOT_AUTHORIZED', 'the operator secret is wrong');
}

export function authorityRoutes(app: FastifyInstance, d: AuthorityRoutesDeps): void {
  /** Check an operator's transaction fields with the protocol schema, then sign and submit them. */
  const submit = (fields: unknown, path: string): string => {
    if (!fields || typeof fields !== 'object' || Array.isArray(fields)) fail('E_WRONG_TYPE', 'send the transaction fields as a JSON object with a "type"', path);
    const f = fields as Record<string, unknown>;
    const type = f.type as TxType;
    if (!OPERATOR_TX.has(type)) fail('E_UNKNOWN_TYPE', `the operator API signs only ${[...OPERATOR_TX].join(', ')}`, `${path}type`);
    // Validate the fields with the protocol schema before signing anything.
    const probe = { ...f, grid: d.ledger.genesis.grid, signer: d.signer.key.keyId, nonce: 1, t: d.clock.now() };
    TX_SHAPES[type].parse(probe, `${path}body`);
    const { id } = d.signer.submit(f as unknown as TxFields);
    d.log.info('authority tx submitted', { id, type, by: 'operator' });
    return id;
  };

  app.post('/api/authority/tx', {
    schema: { querystring: { type: 'object', properties: { wait: { type: 'string', enum: ['commit'] } }, additionalProperties: false } },
  }, async (req, reply) => {
    await requireOperator(req, d.operator);
    const id = submit(req.body, '');
    if ((req.query as { wait?: string }).wait === 'commit') {
      const s = await waitForTx(d.ledger, d.clock, id, 30_000);
      if (s.status === 'rejected') fail(s.code, s.message);
      return reply.status(s.status === 'committed' ? 200 : 202).send({ id, ...s });
    }
    return reply.status(202).send({ id, status: 'pending' });
  });

  // Many at once (registering a whole neighbourhood from a list): each is checked, signed
  // and submitted on its own, in the order given; one refusal does not stop the rest.
  app.post('/api/authority/txs', { bodyLimit: 4 * 1024 * 1024 }, async (req) => {
    await requireOperator(req, d.operator);
    const list = req.body;
    if (!Array.isArray(list)) fail('E_WRONG_TYPE', 'send a JSON array of transaction field objects, each with a "type"');
    if (list.length > 1000) fail('E_TOO_LARGE', `${list.length} transactions in one request; at most 1000`);
    const results = list.map((fields, i) => {
      try {
        return { id: submit(fields, `[${i}].`), status: 'pending' as const };
      } catch (e) {
        const err = e as { code?: string; message: string };
        return { status: 'rejected' as const, code: err.code ?? 'E_INTERNAL', message: err.message };
      }
    });
    const accepted = results.filter((r) => r.status === 'pending').length;
    return { accepted, rejected: list.length - accepted, results };
  });
}
