/**
 * One rule for who a connection is (docs/security.md, "MQTT: identity, admission
 * and logins"). A connection's client id, username and Login token subject name one
 * identity; this file is the only place that decides whether they agree and whether
 * a new connection may take over the session of one already holding its client id.
 * Pure: a login's verdict and the live session in, a refusal or nothing out.
 *
 * MQTT gives a client id to whoever sends it, and the broker closes the older
 * connection when a second one arrives with the same id [MQTT-3.1.4-2]. So a client
 * id is a claim on a session, and the claim must be checked against the identity the
 * token proves, or a stranger logging in under a meter's id cuts the meter off.
 */
import type { Role } from './acl.ts';

/** What a login proved, as far as sessions are concerned. */
export interface SessionClaim {
  /** The key id that signed the token (meters, households, authorities), or "operator". */
  identity: string;
  /** Freshness of the token: a login counter… */
  ctr?: number;
  /** …or the token's issue time. */
  iat?: number;
}

export interface IdentityRefusal {
  code: 'E_CLIENT_ID_RESERVED' | 'E_SESSION_IN_USE';
  message: string;
}

/** A client id of this form is a key id (docs/protocol.md §1): it belongs to that key. */
const KEY_ID = /^[0-9a-f]{32}$/;

export function identityOf(role: Role): string {
  return role.kind === 'operator' ? 'operator' : role.id;
}

/**
 * May `claim`, logging in as `role` under `clientId`, have that client id — taking
 * over `live`, the session that holds it now, if any?
 *
 * 1. A meter's (and a pending meter's) client id is its meter id.
 * 2. A client id that is a key id belongs to that key: nobody else may use it, so no
 *    household, operator or stranger can sit on a meter's (or any key's) session.
 * 3. A live session is taken over only by the same identity with a token at least as
 *    new: a larger counter, or a later-or-equal issue time (a household's Home
 *    Assistant reconnecting with its long-lived token after a half-open socket).
 */
export function checkSession(clientId: string, role: Role, claim: SessionClaim, live?: SessionClaim): IdentityRefusal | undefined {
  const id = identityOf(role);
  if ((role.kind === 'meter' || role.kind === 'pendingMeter' || role.kind === 'restoringMeter') && clientId !== role.id) {
    return { code: 'E_CLIENT_ID_RESERVED', message: `a meter logs in with its meter id (${role.id}) as its client id, not "${clientId}"` };
  }
  if (KEY_ID.test(clientId) && clientId !== id) {
    return { code: 'E_CLIENT_ID_RESERVED', message: `client id ${clientId} is a key id and belongs to that key; ${role.kind === 'operator' ? 'the operator' : id} may not use it` };
  }
  if (!live) return undefined;
  if (live.identity !== claim.identity) {
    return { code: 'E_SESSION_IN_USE', message: `client id "${clientId}" is in use by another identity; choose another client id` };
  }
  if (live.ctr !== undefined && (claim.ctr === undefined || claim.ctr <= live.ctr)) {
    return { code: 'E_SESSION_IN_USE', message: `client id "${clientId}" is in use by a session with login counter ${live.ctr}; a takeover needs a larger counter` };
  }
  if (live.iat !== undefined && claim.ctr === undefined && (claim.iat === undefined || claim.iat < live.iat)) {
    return { code: 'E_SESSION_IN_USE', message: `client id "${clientId}" is in use by a session with a newer Login token` };
  }
  return undefined;
}
