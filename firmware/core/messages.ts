/**
 * What the meter says, built exactly as docs/protocol.md §3–4 define it. Signed
 * payloads are sent as the RFC 8785 text of their envelope, so a reading resent
 * after a reconnect is byte-for-byte the one sent before (RFC 6979 signatures are
 * deterministic too).
 */
import {
  canonicalize, toBase64url, topics, utf8Encode,
  type HelloBody, type LoginBody, type MeterFault, type ReadingBody, type RelayState, type StatusMessage,
} from '../../protocol/index.ts';
import type { ReadingRecord } from './registers.ts';
import type { SignFn } from './platform.ts';

/** The RFC 8785 text of the signed envelope { body, sig } (a base64url signature needs no escaping). */
export function signedText<T>(body: T, sign: SignFn): string {
  const text = canonicalize(body);
  return `{"body":${text},"sig":"${toBase64url(sign(utf8Encode(text)))}"}`;
}

/**
 * MQTT password: a Login token with the persisted counter, so it needs no clock
 * (docs/protocol.md §3 (a)). A meter not enrolled yet adds its public key: the
 * gateway has no other way to check the token.
 */
export function loginPassword(grid: string, meter: string, ctr: number, sign: SignFn, publicKey?: string): string {
  const body: LoginBody = { type: 'Login', grid, id: meter, client: meter, ctr };
  if (publicKey !== undefined) body.publicKey = publicKey;
  return signedText(body, sign);
}

/**
 * MQTT password of a meter that lost its state record (docs/protocol.md §4,
 * "Restore"): no counter (it does not know the last one), so the gateway grants a
 * session that may only receive the meter's Restore and the time.
 */
export function restorePassword(grid: string, meter: string, sign: SignFn, publicKey?: string): string {
  const body: LoginBody = { type: 'Login', grid, id: meter, client: meter, restore: true };
  if (publicKey !== undefined) body.publicKey = publicKey;
  return signedText(body, sign);
}

/** The Reading a stored reading record stands for (signing it again gives the same text: RFC 6979). */
export function readingBody(grid: string, meter: string, r: ReadingRecord): ReadingBody {
  return {
    type: 'Reading', grid, meter, seq: r.seq, t: r.t, importMWh: r.importMWh, exportMWh: r.exportMWh,
    powerW: r.powerW, relay: r.relay, creditMWh: r.creditMWh, fw: r.fw,
  };
}

export function helloPayload(grid: string, meter: string, publicKey: string, fw: string, sign: SignFn): string {
  const body: HelloBody = { type: 'Hello', grid, meter, publicKey, fw };
  return signedText(body, sign);
}

export function readingPayload(body: ReadingBody, sign: SignFn): string {
  return signedText(body, sign);
}

export function onlineStatus(meter: string, relay: RelayState, fw: string, clockSet: boolean, t: number | undefined, fault?: MeterFault): string {
  const s: StatusMessage = { type: 'Status', meter, state: 'online', relay, fw, clock: clockSet ? 'set' : 'unset' };
  if (t !== undefined) s.t = t;
  if (fault !== undefined) s.fault = fault;
  return canonicalize(s);
}

/** The last will: the broker publishes it, retained, when the connection dies without a DISCONNECT. */
export function offlineStatus(meter: string): string {
  const s: StatusMessage = { type: 'Status', meter, state: 'offline' };
  return canonicalize(s);
}

export function meterTopics(grid: string, meter: string) {
  return {
    reading: topics.meter(grid, meter, 'reading'),
    ack: topics.meter(grid, meter, 'ack'),
    time: topics.meter(grid, meter, 'time'),
    credit: topics.meter(grid, meter, 'credit'),
    enrolment: topics.meter(grid, meter, 'enrolment'),
    status: topics.meter(grid, meter, 'status'),
    hello: topics.meter(grid, meter, 'hello'),
    restore: topics.meter(grid, meter, 'restore'),
  };
}
