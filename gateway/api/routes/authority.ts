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

export function requireOperator(req: FastifyRequest, operator: SecretChecker): void {
  const h = req.headers.authorization;
  const token = h?.startsWith('Bearer ') ? h.slice(7) : undefined;
  if (!token) fail('E_UNAUTHENTICATED', 'this call needs the operator secret: send "Authorization: Bearer <secret>" (it is in <data>/operator.secret)');
  if (!operator.check(token)) fail('E_NOT_AUTHORIZED', 'the operator secret is wrong');
}

export function authorityRoutes(app: FastifyInstance, d: AuthorityRoutesDeps): void {
  app.post('/api/authority/tx', {
    schema: { querystring: { type: 'object', properties: { wait: { type: 'string', enum: ['commit'] } }, additionalProperties: false } },
  }, async (req, reply) => {
    requireOperator(req, d.operator);
    const fields = req.body as Record<string, unknown> | null;
    if (!fields || typeof fields !== 'object' || Array.isArray(fields)) fail('E_WRONG_TYPE', 'send the transaction fields as a JSON object with a "type"');
    const type = fields.type as TxType;
    if (!OPERATOR_TX.has(type)) fail('E_UNKNOWN_TYPE', `the operator API signs only ${[...OPERATOR_TX].join(', ')}`, 'type');
    // Validate the fields with the protocol schema before signing anything.
    const probe = { ...fields, grid: d.ledger.genesis.grid, signer: d.signer.key.keyId, nonce: 1, t: d.clock.now() };
    TX_SHAPES[type].parse(probe, 'body');
    const { id } = d.signer.submit(fields as unknown as TxFields);
    d.log.info('authority tx submitted', { id, type, by: 'operator' });
    if ((req.query as { wait?: string }).wait === 'commit') {
      const s = await waitForTx(d.ledger, d.clock, id, 30_000);
      if (s.status === 'rejected') fail(s.code, s.message);
      return reply.status(s.status === 'committed' ? 200 : 202).send({ id, ...s });
    }
    return reply.status(202).send({ id, status: 'pending' });
  });
}
