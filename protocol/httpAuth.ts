/**
 * The household's HTTP credential (docs/api.md, "Who may read what"):
 * `Authorization: Helios <token>`, where the token is the base64url of the UTF-8
 * canonical JSON (RFC 8785) of a signed Login envelope — the MQTT login body with
 * `client: "http"`, `id` = the wallet key id and an `iat`/`exp` window of at most
 * 15 minutes — signed with the household's wallet key. Portable (XS, browsers): a
 * WebCrypto wallet can build the same bytes.
 */
import { utf8Encode, toBase64url } from './bytes.ts';
import { signBody, type KeyPair } from './ecdsa.ts';
import { canonicalize } from './json.ts';
import type { LoginBody } from './messages/meter.ts';

/** Longest window a token may cover (exp − iat). */
export const HTTP_TOKEN_MAX_MS = 15 * 60_000;
/** How far a token's iat may lie ahead of the gateway's clock (clocks drift). */
export const HTTP_TOKEN_SKEW_MS = 60_000;
/** The MQTT login's `client` field for an HTTP credential. */
export const HTTP_CLIENT = 'http';

/** A token for `Authorization: Helios <token>`, valid from `now` for `ttlMs` (default and at most 15 minutes). */
export function httpToken(key: Pick<KeyPair, 'keyId' | 'secretKey'>, grid: string, now: number, ttlMs = HTTP_TOKEN_MAX_MS): string {
  const body: LoginBody = { type: 'Login', grid, id: key.keyId, client: HTTP_CLIENT, iat: now, exp: now + Math.min(ttlMs, HTTP_TOKEN_MAX_MS) };
  return toBase64url(utf8Encode(canonicalize(signBody(body, key.secretKey))));
}
