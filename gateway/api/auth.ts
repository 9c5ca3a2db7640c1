/**
 * Who is asking (docs/api.md, "Who may read what"; docs/security.md). Household-
 * private reads — a household's balance, email, history, orders, meters and
 * readings — need that household's credential or the operator's:
 *   Authorization: Helios <token>   a Login signed with the household's wallet key
 *                                   (client "http", a window of at most 15 minutes);
 *   Authorization: Bearer <secret>  the operator secret (DATA/operator.secret).
 * The token is the same Login the MQTT broker accepts, so a household proves itself
 * the same way on both edges. It is a bearer credential for its window: anyone who
 * sees it can read what the household can until it expires, which is why the window
 * is short and reads only ever need it (writes are signed transactions).
 */
import type { FastifyRequest } from 'fastify';
import {
  canonicalize, fail, fromBase64url, HTTP_CLIENT, HTTP_TOKEN_MAX_MS, HTTP_TOKEN_SKEW_MS, LoginBody, parseJson, signed, utf8Decode,
  type Clock, type LoginBody as Login, type Signed,
} from '../../protocol/index.ts';
import { verifyP256 } from '../../shared/p256-node.js';
import { keys, type ParticipantEntry } from '../ledger/entities.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { SecretChecker } from '../secrets.ts';
import { sourceOf } from '../source.ts';

export type Reader = { kind: 'operator' } | { kind: 'household'; email: string; keyId: string };

export interface AuthDeps {
  ledger: Ledger;
  clock: Clock;
  /** The operator secret's checker: off the main thread, throttled per source (gateway/secrets.ts). */
  operator: Pick<SecretChecker, 'check'>;
}

const SignedLogin = signed(LoginBody);
/** A signed Login is ~400 bytes; its base64url ~540 characters. */
const MAX_TOKEN_CHARS = 2048;

const HOW = 'send "Authorization: Helios <token>" (a Login signed with your wallet key: "helios wallet token --wallet FILE" prints one) or "Authorization: Bearer <operator secret>"';

/** The credential on a request, checked; throws E_UNAUTHENTICATED (401) when there is none or it is not valid. */
export async function readerOf(req: FastifyRequest, d: AuthDeps): Promise<Reader> {
  const h = req.headers.authorization;
  if (!h) fail('E_UNAUTHENTICATED', `this is a household's private data: ${HOW}`);
  const sp = h.indexOf(' ');
  const scheme = sp > 0 ? h.slice(0, sp).toLowerCase() : h.toLowerCase();
  const value = sp > 0 ? h.slice(sp + 1).trim() : '';
  if (scheme === 'bearer') {
    if (!value || !(await d.operator.check(value, sourceOf(req.ip)))) fail('E_UNAUTHENTICATED', 'the operator secret is wrong');
    return { kind: 'operator' };
  }
  if (scheme !== 'helios') fail('E_UNAUTHENTICATED', `unknown authorization scheme "${scheme.slice(0, 20)}": ${HOW}`);
  return householdOf(value, d);
}

function householdOf(token: string, d: AuthDeps): Reader {
  if (token.length > MAX_TOKEN_CHARS) fail('E_UNAUTHENTICATED', `the Helios token is ${token.length} characters; a signed Login is under ${MAX_TOKEN_CHARS}`);
  let env: Signed<Login>;
  try {
    env = SignedLogin.parse(parseJson(utf8Decode(fromBase64url(token))), 'token') as Signed<Login>;
  } catch (e) {
    fail('E_UNAUTHENTICATED', `the Helios token is not a base64url signed Login (${(e as Error).message})`);
  }
  const b = env.body;
  const now = d.clock.now();
  if (b.grid !== d.ledger.genesis.grid) fail('E_UNAUTHENTICATED', `the token is for grid "${b.grid}", this is "${d.ledger.genesis.grid}"`);
  if (b.client !== HTTP_CLIENT) fail('E_UNAUTHENTICATED', `the token is for client "${b.client}"; an HTTP token has client "${HTTP_CLIENT}"`);
  if (b.iat === undefined || b.exp === undefined) fail('E_UNAUTHENTICATED', 'an HTTP token needs iat and exp');
  if (b.exp - b.iat > HTTP_TOKEN_MAX_MS) fail('E_UNAUTHENTICATED', `the token covers ${Math.round((b.exp - b.iat) / 1000)} s; at most ${HTTP_TOKEN_MAX_MS / 60_000} minutes are allowed`);
  if (b.iat > now + HTTP_TOKEN_SKEW_MS) fail('E_UNAUTHENTICATED', 'the token was issued in the future; check the clock of the device that made it');
  if (now >= b.exp) fail('E_UNAUTHENTICATED', 'the token has expired; make a new one');
  const state = d.ledger.state;
  const owner = state.get<{ participant?: string; authority?: true }>(keys.key(b.id));
  const authority = d.ledger.genesis.authorities.find((a) => a.keyId === b.id);
  const participant = owner?.participant ? state.get<ParticipantEntry>(keys.participant(owner.participant)) : undefined;
  const publicKey = authority?.publicKey ?? participant?.publicKey;
  if (!publicKey) fail('E_UNAUTHENTICATED', `key ${b.id} belongs to no household or authority of this grid`);
  let sig: Uint8Array;
  try {
    sig = fromBase64url(env.sig);
  } catch {
    sig = new Uint8Array(0);
  }
  if (!verifyP256(publicKey, Buffer.from(canonicalize(b)), sig)) fail('E_UNAUTHENTICATED', `the token's signature does not verify with the key of ${b.id}`);
  if (authority) return { kind: 'operator' };
  return { kind: 'household', email: participant!.email, keyId: b.id };
}

/** The reader may see `email`'s private data: it is that household, or the operator. Throws E_NOT_AUTHORIZED (403). */
export function mayRead(r: Reader, email: string, what: string): void {
  if (r.kind === 'operator' || r.email === email) return;
  fail('E_NOT_AUTHORIZED', `${what} belongs to another household; sign in as that household or as the operator`);
}

/** Only the operator. */
export function operatorOnly(r: Reader, what: string): void {
  if (r.kind !== 'operator') fail('E_NOT_AUTHORIZED', `${what} is for the operator; a household can ask for its own`);
}
