/**
 * Who may publish and subscribe where (docs/protocol.md §3). Pure: a role and a
 * topic in, yes or no out. The gateway itself publishes through the broker's own
 * API and is never subject to these rules.
 */
import { parseTopic } from '../../protocol/index.ts';

export type Role =
  | { kind: 'meter'; id: string }
  | { kind: 'pendingMeter'; id: string }
  /** A meter that lost its state record, logged in without a counter to get its Restore (docs/protocol.md §4). */
  | { kind: 'restoringMeter'; id: string }
  | { kind: 'household'; id: string; email: string; meters: () => readonly string[] }
  | { kind: 'operator' }
  | { kind: 'authority'; id: string };

export function mayPublish(role: Role, grid: string, topic: string): boolean {
  const t = parseTopic(topic);
  if (!t || t.grid !== grid) return false;
  switch (role.kind) {
    case 'meter':
      // Hello too: a meter that does not know yet that it is enrolled (its certificate not
      // received, or its flash reset) says Hello; the gateway ignores it rather than cut it off.
      return t.kind === 'meter' && t.meter === role.id && (t.leaf === 'reading' || t.leaf === 'status' || t.leaf === 'hello');
    case 'pendingMeter':
      return t.kind === 'meter' && t.meter === role.id && (t.leaf === 'hello' || t.leaf === 'status');
    case 'restoringMeter':
      return t.kind === 'meter' && t.meter === role.id && t.leaf === 'status';
    case 'household':
      return t.kind === 'tx';
    case 'operator':
      return t.kind === 'operator' || t.kind === 'tx';
    case 'authority':
      return t.kind === 'chainBlock' || t.kind === 'tx';
  }
}

const SHARED_NEWS = new Set(['listing', 'trades', 'clock', 'storage', 'chainHead']);

export function maySubscribe(role: Role, grid: string, filter: string): boolean {
  const root = `helios/${grid}/`;
  if (role.kind === 'operator' || role.kind === 'authority') {
    // The operator's flows and other authorities see the whole grid (wildcards allowed).
    if (filter.startsWith(root)) return true;
    return role.kind === 'operator' && filter.startsWith('homeassistant/');
  }
  if (role.kind === 'household') {
    if (filter === `${root}market/#`) return true;
    if (filter.startsWith('homeassistant/')) {
      // Only the discovery configs of its own meters: homeassistant/<component>/helios_<m>/...
      const m = /^homeassistant\/[a-z_]+\/helios_([0-9a-f]{32})\/(#|[a-z]+\/config)$/.exec(filter);
      return m !== null && role.meters().includes(m[1]);
    }
  }
  if (filter.includes('#') || filter.includes('+')) return false;
  const t = parseTopic(filter);
  if (!t || t.grid !== grid) return false;
  if (SHARED_NEWS.has(t.kind)) return role.kind === 'meter' || role.kind === 'household';
  switch (role.kind) {
    case 'meter':
      // restore: a meter that found one state slot damaged checks the gateway's copy.
      return t.kind === 'meter' && t.meter === role.id && ['ack', 'time', 'credit', 'enrolment', 'restore'].includes(t.leaf);
    case 'pendingMeter':
      return t.kind === 'meter' && t.meter === role.id && (t.leaf === 'enrolment' || t.leaf === 'time');
    case 'restoringMeter':
      return t.kind === 'meter' && t.meter === role.id && (t.leaf === 'restore' || t.leaf === 'time');
    case 'household':
      if (t.kind === 'txResult') return t.keyId === role.id;
      return t.kind === 'meter' && (t.leaf === 'reading' || t.leaf === 'status') && role.meters().includes(t.meter);
  }
}

/** Roles whose message rate is not limited (the operator's flows and other authorities). */
export function rateExempt(role: Role): boolean {
  return role.kind === 'operator' || role.kind === 'authority';
}
