/**
 * MQTT login (docs/protocol.md §3). A meter, household or authority proves its key
 * with a signed Login token as the CONNECT password; the operator (Node-RED) uses the
 * operator secret. Freshness comes from a persisted counter (meters: no clock needed)
 * or from a time window (households, authorities).
 */
import { canonicalize, decode, fail, fromBase64url, isHeliosError, keyIdOf, LoginBody, signed, type Clock, type Genesis } from '../../protocol/index.ts';
import { verifyP256 } from '../../shared/p256-node.js';
import { keys, type KeyEntry, type MeterEntry, type ParticipantEntry } from '../ledger/entities.ts';
import type { StateReader } from '../ledger/state.ts';
import type { SecretChecker } from '../secrets.ts';
import type { Role } from './acl.ts';
import type { SessionClaim } from './identity.ts';

const SignedLogin = signed(LoginBody);
const MAX_LOGIN_BYTES = 1024;

export interface LoginCounters {
  get(id: string): number;
  set(id: string, ctr: number): void;
}

export interface AuthDeps {
  genesis: Genesis;
  /**
   * Checks a login token's signature; default: here, on OpenSSL. The gateway passes its
   * worker-thread verifier, so 10,000 meters logging in at once (after a gateway
   * restart) do not queue behind each other's signature checks on the main thread.
   */
  verify?: (item: { publicKey: string; message: Buffer; sig: string }) => Promise<boolean>;
  clock: Clock;
  state: StateReader;
  operator: SecretChecker;
  counters: LoginCounters;
  /** Longest token lifetime for meters and authorities, and for households (Home Assistant). */
  deviceTokenMaxMs?: number;
  householdTokenMaxMs?: number;
  skewMs?: number;
  /**
   * Admission of a login that proves no enrolled identity (a pending meter saying
   * Hello): called before its signature is checked, so a flood of them costs no
   * verification beyond the pool's rates. Throws to refuse.
   */
  admitPending?(source: string): void;
}

export interface Login {
  role: Role;
  /** Who the token proves and how fresh it is (gateway/broker/identity.ts decides what that allows). */
  claim: SessionClaim;
  /** What to persist, durably, before the connection is accepted: the counter, and the token itself (a meter's Restore hands it back). */
  counter?: { id: string; ctr: number; token: string };
}

/** `source` is the remote address the login came from (throttling and admission are per source). */
export async function authenticate(d: AuthDeps, clientId: string, username: string | undefined, password: Buffer | undefined, source = 'unknown'): Promise<Login> {
  if (!username || !password) fail('E_BAD_LOGIN', 'log in with a username and a password (a signed Login token, or the operator secret)');
  if (username === 'operator') {
    if (!(await d.operator.check(password.toString('utf8'), source))) fail('E_BAD_LOGIN', 'wrong operator secret');
    return { role: { kind: 'operator' }, claim: { identity: 'operator' } };
  }
  let token;
  try {
    token = decode(new Uint8Array(password), SignedLogin, MAX_LOGIN_BYTES);
  } catch (e) {
    if (isHeliosError(e)) fail('E_BAD_LOGIN', `the password is not a valid Login token: ${e.message}`);
    throw e;
  }
  const b = token.body;
  if (b.grid !== d.genesis.grid) fail('E_BAD_LOGIN', `Login token is for grid "${b.grid}", this is "${d.genesis.grid}"`);
  if (b.id !== username) fail('E_BAD_LOGIN', `Login token is for ${b.id}, but the username is ${username}`);
  if (b.client !== clientId) fail('E_BAD_LOGIN', `Login token is for client id "${b.client}", not "${clientId}"`);

  if (b.restore === true && (b.ctr !== undefined || b.iat !== undefined || b.exp !== undefined)) {
    fail('E_BAD_LOGIN', 'a restore login carries neither ctr nor iat/exp: it is the login of a meter that lost its counter');
  }
  // Whose key is it?
  let role: Role;
  let publicKey: string;
  let device = true;
  const meter = d.state.get<MeterEntry>(keys.meter(b.id));
  const k = d.state.get<KeyEntry>(keys.key(b.id));
  if (meter) {
    if (meter.revoked) fail('E_METER_REVOKED', `meter ${b.id} was revoked (${meter.revoked.reason}); it may not connect`);
    role = b.restore === true ? { kind: 'restoringMeter', id: b.id } : { kind: 'meter', id: b.id };
    publicKey = meter.publicKey;
  } else if (k && 'participant' in k) {
    const p = d.state.get<ParticipantEntry>(keys.participant(k.participant))!;
    const email = p.email;
    role = { kind: 'household', id: b.id, email, meters: () => d.state.get<ParticipantEntry>(keys.participant(email))?.meters ?? [] };
    publicKey = p.publicKey;
    device = false;
  } else if (k && 'authority' in k) {
    role = { kind: 'authority', id: b.id };
    publicKey = d.genesis.authorities.find((a) => a.keyId === b.id)!.publicKey;
  } else if (b.publicKey !== undefined) {
    if (keyIdOf(b.publicKey) !== b.id) fail('E_BAD_LOGIN', `the public key in the token has key id ${keyIdOf(b.publicKey)}, not ${b.id}`);
    role = b.restore === true ? { kind: 'restoringMeter', id: b.id } : { kind: 'pendingMeter', id: b.id };
    publicKey = b.publicKey;
    d.admitPending?.(source);
  } else {
    return fail('E_UNKNOWN_SIGNER', `${b.id} is not an enrolled meter, a registered household or an authority; a new meter sends its publicKey in the token`);
  }

  const message = Buffer.from(canonicalize(token.body));
  const ok = d.verify ? await d.verify({ publicKey, message, sig: token.sig }) : verifyP256(publicKey, message, sigBytes(token.sig));
  if (!ok) fail('E_BAD_LOGIN', `the Login token's signature does not verify with the key of ${b.id}`);

  // docs/protocol.md §4, "Restore": a meter that lost its counter cannot prove freshness. Its login is
  // replayable by design and so grants nothing but its own Restore and the time, and never takes over
  // a live session (its claim has neither counter nor issue time: gateway/broker/identity.ts).
  if (b.restore === true) {
    if (role.kind !== 'restoringMeter') fail('E_BAD_LOGIN', `only a meter logs in to be restored; ${b.id} is not one`);
    return { role, claim: { identity: b.id } };
  }

  // Fresh? Checked after the signature, in the same turn as the caller records the
  // counter (loggedIn), so two logins with one token cannot both pass.
  if (b.ctr !== undefined) {
    const last = d.counters.get(b.id);
    if (b.ctr <= last) fail('E_LOGIN_REPLAY', `login counter ${b.ctr} is not above the last one accepted (${last}); a token is good for one login`);
    return { role, claim: { identity: b.id, ctr: b.ctr }, counter: { id: b.id, ctr: b.ctr, token: canonicalize(token) } };
  }
  if (b.iat === undefined || b.exp === undefined) fail('E_BAD_LOGIN', 'a Login token needs either ctr, or both iat and exp');
  const now = d.clock.now();
  const skew = d.skewMs ?? 60_000;
  const max = device ? (d.deviceTokenMaxMs ?? 15 * 60_000) : (d.householdTokenMaxMs ?? 366 * 86_400_000);
  if (b.exp - b.iat > max) fail('E_LOGIN_EXPIRED', `the token is valid for ${Math.round((b.exp - b.iat) / 60_000)} minutes; at most ${Math.round(max / 60_000)} are allowed for this kind of client`);
  if (now < b.iat - skew) fail('E_LOGIN_EXPIRED', 'the Login token was issued in the future; check the client clock');
  if (now > b.exp) fail('E_LOGIN_EXPIRED', `the Login token expired at ${new Date(b.exp).toISOString()}; make a new one`);
  return { role, claim: { identity: b.id, iat: b.iat } };
}

function sigBytes(sig: string): Uint8Array {
  try {
    return fromBase64url(sig);
  } catch {
    return new Uint8Array(0);
  }
}
