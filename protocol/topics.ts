/** The MQTT topic tree (docs/protocol.md, "Topics"). Build and parse topics only here. */
import { matches } from './patterns.ts';

export const METER_LEAVES = ['reading', 'ack', 'credit', 'status', 'time', 'enrolment', 'hello', 'restore'] as const;
export type MeterLeaf = (typeof METER_LEAVES)[number];

export const topics = {
  root: (grid: string) => `helios/${grid}`,
  meter: (grid: string, meter: string, leaf: MeterLeaf) => `helios/${grid}/meter/${meter}/${leaf}`,
  /** Retained: the current kWhListing. */
  listing: (grid: string) => `helios/${grid}/market/listing`,
  trades: (grid: string) => `helios/${grid}/market/trades`,
  /**
   * The grid's time, every block period (never retained): what the operator's flows
   * schedule the market's broadcasts by, on an accelerated clock too.
   */
  clock: (grid: string) => `helios/${grid}/market/clock`,
  /** Retained: central storage availability. */
  storage: (grid: string) => `helios/${grid}/storage`,
  /** Retained: the newest block header. */
  chainHead: (grid: string) => `helios/${grid}/chain/head`,
  /** Whole blocks, between authorities. */
  chainBlock: (grid: string) => `helios/${grid}/chain/block`,
  /** Signed transactions from households and authorities. */
  tx: (grid: string) => `helios/${grid}/tx`,
  /** Results of the transactions a client submitted, addressed by its key id. */
  txResult: (grid: string, keyId: string) => `helios/${grid}/client/${keyId}/result`,
  /** Market broadcasts from the operator (Node-RED): AcceptOfferBroadcast and CloseBidding requests. */
  operator: (grid: string, command: 'broadcast' | 'close') => `helios/${grid}/operator/${command}`,
  /** Home Assistant MQTT discovery config for one entity of a meter. */
  homeAssistant: (component: string, meter: string, entity: string) => `homeassistant/${component}/helios_${meter}/${entity}/config`,
};

export type ParsedTopic =
  | { kind: 'meter'; grid: string; meter: string; leaf: MeterLeaf }
  | { kind: 'listing' | 'trades' | 'clock' | 'storage' | 'chainHead' | 'chainBlock' | 'tx'; grid: string }
  | { kind: 'txResult'; grid: string; keyId: string }
  | { kind: 'operator'; grid: string; command: 'broadcast' | 'close' };

const ID = /^[0-9a-f]{32}$/;
const GRID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Parse a Helios topic; null for anything outside the tree (or malformed). */
export function parseTopic(topic: string): ParsedTopic | null {
  const p = topic.split('/');
  if (p[0] !== 'helios' || p.length < 3 || !matches(GRID, p[1])) return null;
  const grid = p[1];
  switch (p[2]) {
    case 'meter':
      if (p.length === 5 && matches(ID, p[3]) && (METER_LEAVES as readonly string[]).includes(p[4])) {
        return { kind: 'meter', grid, meter: p[3], leaf: p[4] as MeterLeaf };
      }
      return null;
    case 'market':
      if (p.length === 4 && p[3] === 'listing') return { kind: 'listing', grid };
      if (p.length === 4 && p[3] === 'trades') return { kind: 'trades', grid };
      if (p.length === 4 && p[3] === 'clock') return { kind: 'clock', grid };
      return null;
    case 'storage':
      return p.length === 3 ? { kind: 'storage', grid } : null;
    case 'chain':
      if (p.length === 4 && p[3] === 'head') return { kind: 'chainHead', grid };
      if (p.length === 4 && p[3] === 'block') return { kind: 'chainBlock', grid };
      return null;
    case 'tx':
      return p.length === 3 ? { kind: 'tx', grid } : null;
    case 'client':
      return p.length === 5 && matches(ID, p[3]) && p[4] === 'result' ? { kind: 'txResult', grid, keyId: p[3] } : null;
    case 'operator':
      return p.length === 4 && (p[3] === 'broadcast' || p[3] === 'close') ? { kind: 'operator', grid, command: p[3] } : null;
    default:
      return null;
  }
}
