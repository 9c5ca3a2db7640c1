/** The identity rule (gateway/broker/identity.ts), case by case: who may use a client id and who may take a session over. */
import test from 'ava';
import { checkSession } from '../../../gateway/broker/identity.ts';
import type { Role } from '../../../gateway/broker/acl.ts';

const M = 'a'.repeat(32);
const K = 'b'.repeat(32);
const meter: Role = { kind: 'meter', id: M };
const pending: Role = { kind: 'pendingMeter', id: K };
const household: Role = { kind: 'household', id: K, email: 'h@example.org', meters: () => [] };
const operator: Role = { kind: 'operator' };

test('a meter uses its meter id as client id, and nobody else may use a key id', (t) => {
  t.is(checkSession(M, meter, { identity: M, ctr: 1 }), undefined);
  t.is(checkSession('meter-1', meter, { identity: M, ctr: 1 })?.code, 'E_CLIENT_ID_RESERVED');
  t.is(checkSession(M, pending, { identity: K, ctr: 1 })?.code, 'E_CLIENT_ID_RESERVED', 'a stranger under an enrolled meter\'s id');
  t.is(checkSession(M, household, { identity: K, iat: 1 })?.code, 'E_CLIENT_ID_RESERVED', 'a household under a meter\'s id');
  t.is(checkSession(M, operator, { identity: 'operator' })?.code, 'E_CLIENT_ID_RESERVED');
  t.is(checkSession(K, household, { identity: K, iat: 1 }), undefined, 'a household may use its own key id');
  t.is(checkSession('home-assistant', household, { identity: K, iat: 1 }), undefined);
});

test('a live session is taken over only by the same identity with a token at least as new', (t) => {
  t.is(checkSession(M, meter, { identity: M, ctr: 8 }, { identity: M, ctr: 7 }), undefined);
  t.is(checkSession(M, meter, { identity: M, ctr: 7 }, { identity: M, ctr: 7 })?.code, 'E_SESSION_IN_USE');
  t.is(checkSession(M, meter, { identity: M, iat: 5 }, { identity: M, ctr: 7 })?.code, 'E_SESSION_IN_USE');
  t.is(checkSession('ha', household, { identity: K, iat: 5 }, { identity: K, iat: 5 }), undefined, 'Home Assistant reconnecting with its token');
  t.is(checkSession('ha', household, { identity: K, iat: 4 }, { identity: K, iat: 5 })?.code, 'E_SESSION_IN_USE');
  t.is(checkSession('ha', household, { identity: K, iat: 9 }, { identity: 'c'.repeat(32), iat: 1 })?.code, 'E_SESSION_IN_USE');
  t.is(checkSession('node-red', operator, { identity: 'operator' }, { identity: 'operator' }), undefined);
  t.is(checkSession('node-red', operator, { identity: 'operator' }, { identity: K, iat: 1 })?.code, 'E_SESSION_IN_USE');
});

test('a restore login (no counter: the meter lost it) never takes over a live session, and the meter\'s next counter login takes over the restore session', (t) => {
  const restoring: Role = { kind: 'restoringMeter', id: M };
  t.is(checkSession(M, restoring, { identity: M }), undefined);
  t.is(checkSession('x', restoring, { identity: M })?.code, 'E_CLIENT_ID_RESERVED');
  t.is(checkSession(M, restoring, { identity: M }, { identity: M, ctr: 7 })?.code, 'E_SESSION_IN_USE', 'a replayed restore login cannot cut the meter off');
  t.is(checkSession(M, meter, { identity: M, ctr: 1007 }, { identity: M }), undefined);
});
