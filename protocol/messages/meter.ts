/**
 * Messages between a meter and the gateway (docs/protocol.md, "Meter messages").
 * Readings, hellos and login tokens are signed by the meter's key; credit tokens
 * and enrolment certificates by an authority; acknowledgements, time and status are
 * protected by the broker's ACL (only the gateway may publish to a meter's ack,
 * time and credit topics; only the meter to its own reading and status).
 */
import { bool, int, literal, object, oneOf, optional, type ObjectOf } from '../schema.ts';
import {
  energyMWh, email, gridId, keyId, MAX_INT32, MAX_SAFE, meterId, publicKey, registerMWh, text, timeMs,
} from './fields.ts';

export const RELAY_STATES = ['open', 'closed'] as const;
export type RelayState = (typeof RELAY_STATES)[number];

/** A signed meter envelope (Reading, Login) as text; a Reading's is under 600 bytes. */
const MAX_ENVELOPE = 1024;

const readingShape = {
  type: literal('Reading'),
  grid: gridId(),
  meter: meterId(),
  /** 1, 2, 3 … per meter, persisted across reboots; the gateway de-duplicates on it. */
  seq: int(1, MAX_INT32),
  /** When the registers were read (meter clock, ms since epoch). */
  t: timeMs(),
  importMWh: registerMWh(),
  exportMWh: registerMWh(),
  /** Instantaneous active power, W: positive importing, negative exporting. */
  powerW: int(-1_000_000, 1_000_000),
  relay: oneOf(RELAY_STATES),
  /** Unused energy credit the meter holds, all valid tokens together. */
  creditMWh: int(0, MAX_SAFE),
  fw: text(32),
};
export const ReadingBody = object(readingShape);
export type ReadingBody = ObjectOf<typeof readingShape>;

const ackShape = {
  type: literal('Ack'),
  meter: meterId(),
  /** Highest sequence number stored durably; 0 when none is. */
  seq: int(0, MAX_INT32),
  t: timeMs(),
};
export const AckMessage = object(ackShape);
export type AckMessage = ObjectOf<typeof ackShape>;

const timeShape = {
  type: literal('Time'),
  /** The gateway's clock when it sent this. */
  t: timeMs(),
};
export const TimeMessage = object(timeShape);
export type TimeMessage = ObjectOf<typeof timeShape>;

const creditShape = {
  type: literal('CreditToken'),
  grid: gridId(),
  meter: meterId(),
  energyMWh: energyMWh(),
  validFrom: timeMs(),
  validUntil: timeMs(),
  /** 16 random-looking bytes, hex; a meter never accepts the same nonce twice. */
  nonce: keyId(),
  /** Key id of the authority that signed it. */
  issuer: keyId(),
  /** What paid for it: a listing id or a transaction id. */
  ref: optional(text(80)),
};
export const CreditTokenBody = object(creditShape);
export type CreditTokenBody = ObjectOf<typeof creditShape>;

const enrolmentShape = {
  type: literal('Enrolment'),
  grid: gridId(),
  meter: meterId(),
  participant: email(),
  /** The authority's public key: the meter verifies credit tokens with it. */
  authority: publicKey(),
  pulsesPerKWh: int(1, 100_000),
  relay: bool(),
  t: timeMs(),
};
export const EnrolmentBody = object(enrolmentShape);
export type EnrolmentBody = ObjectOf<typeof enrolmentShape>;

const helloShape = {
  type: literal('Hello'),
  grid: gridId(),
  meter: meterId(),
  publicKey: publicKey(),
  fw: text(32),
};
export const HelloBody = object(helloShape);
export type HelloBody = ObjectOf<typeof helloShape>;

/** What a meter's Status may report as its fault (docs/protocol.md §9). */
export const METER_FAULTS = ['E_STATE_LOST', 'E_KEY_LOST'] as const;
export type MeterFault = (typeof METER_FAULTS)[number];

const statusShape = {
  type: literal('Status'),
  meter: meterId(),
  state: oneOf(['online', 'offline'] as const),
  relay: optional(oneOf(RELAY_STATES)),
  fw: optional(text(32)),
  clock: optional(oneOf(['set', 'unset'] as const)),
  t: optional(timeMs()),
  /**
   * Set while the meter cannot work normally because of its own storage
   * (docs/protocol.md §4, "Restore"): E_STATE_LOST until the gateway has restored
   * its registers, E_KEY_LOST until its new key is enrolled.
   */
  fault: optional(oneOf(METER_FAULTS)),
};
export const StatusMessage = object(statusShape);
export type StatusMessage = ObjectOf<typeof statusShape>;

const loginShape = {
  type: literal('Login'),
  grid: gridId(),
  /** Key id of the signer: a meter id, a household's wallet key id or an authority's. */
  id: keyId(),
  /** The MQTT client id this token is for; it is refused under any other. */
  client: text(64),
  /** Issued-at and expiry (ms); required unless ctr is present. */
  iat: optional(timeMs()),
  exp: optional(timeMs()),
  /** A counter the signer persists and raises on every login; lets a meter without a set clock log in, never twice with one token. */
  ctr: optional(int(1, MAX_INT32)),
  /** A meter that is not enrolled yet sends its public key, so the gateway can check the token and list it for the installer. */
  publicKey: optional(publicKey()),
  /**
   * A meter that lost its state record asks only for its Restore (docs/protocol.md §4):
   * with neither ctr nor iat, the login grants a session that can do nothing else.
   */
  restore: optional(bool()),
};
export const LoginBody = object(loginShape);
export type LoginBody = ObjectOf<typeof loginShape>;

const restoreShape = {
  type: literal('Restore'),
  meter: meterId(),
  /**
   * The meter's newest stored reading, exactly as the meter signed it (its signed
   * envelope as canonical text); absent if the gateway holds none.
   */
  reading: optional(text(MAX_ENVELOPE)),
  /** The last Login token the gateway accepted from this meter, as the meter signed it; absent if none. */
  login: optional(text(MAX_ENVELOPE)),
  /** The gateway's clock. */
  t: timeMs(),
};
/**
 * Gateway → meter, only to a meter that logged in with `restore: true`: what it
 * needs to continue after losing its state record. Both inner texts are signed by
 * the meter's own key, so the meter believes nothing the gateway could have made up.
 */
export const RestoreMessage = object(restoreShape);
export type RestoreMessage = ObjectOf<typeof restoreShape>;
