import test from 'ava';
import { mayPublish, maySubscribe, type Role } from '../../../gateway/broker/acl.ts';

const G = 'g1';
const M = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);
const H = 'c'.repeat(32);
const meter: Role = { kind: 'meter', id: M };
const pending: Role = { kind: 'pendingMeter', id: M };
const household: Role = { kind: 'household', id: H, email: 'h@example.org', meters: () => [M] };
const operator: Role = { kind: 'operator' };
const authority: Role = { kind: 'authority', id: H };
const t = (rest: string) => `helios/${G}/${rest}`;

test('a meter publishes only its own readings, status and hello', (tt) => {
  tt.true(mayPublish(meter, G, t(`meter/${M}/reading`)));
  tt.true(mayPublish(meter, G, t(`meter/${M}/status`)));
  tt.false(mayPublish(meter, G, t(`meter/${OTHER}/reading`)), "another meter's topic");
  for (const leaf of ['ack', 'credit', 'time', 'enrolment']) tt.false(mayPublish(meter, G, t(`meter/${M}/${leaf}`)), leaf);
  tt.true(mayPublish(meter, G, t(`meter/${M}/hello`)), 'a Hello from an enrolled meter is ignored, not punished');
  tt.false(mayPublish(meter, G, t('market/listing')));
  tt.false(mayPublish(meter, G, t('tx')));
  tt.false(mayPublish(meter, G, `helios/other-grid/meter/${M}/reading`), 'another grid');
});

test('only the gateway sends acknowledgements, credit, time, listings and chain heads: no client role may', (tt) => {
  for (const role of [meter, pending, household, operator, authority]) {
    for (const topic of [t(`meter/${M}/ack`), t(`meter/${M}/credit`), t(`meter/${M}/time`), t(`meter/${M}/enrolment`), t('market/listing'), t('market/trades'), t('storage'), t('chain/head'), t(`client/${H}/result`)]) {
      tt.false(mayPublish(role, G, topic), `${role.kind} → ${topic}`);
    }
  }
});

test('a meter subscribes only to what is addressed to it and to the shared news', (tt) => {
  for (const leaf of ['ack', 'time', 'credit', 'enrolment']) tt.true(maySubscribe(meter, G, t(`meter/${M}/${leaf}`)));
  tt.false(maySubscribe(meter, G, t(`meter/${OTHER}/credit`)));
  tt.false(maySubscribe(meter, G, t(`meter/${M}/reading`)));
  tt.false(maySubscribe(meter, G, t('#')));
  tt.false(maySubscribe(meter, G, t(`meter/+/credit`)));
  tt.true(maySubscribe(meter, G, t('market/listing')));
  tt.true(maySubscribe(meter, G, t('chain/head')));
});

test('a meter not yet enrolled may only say hello and wait for its certificate', (tt) => {
  tt.true(mayPublish(pending, G, t(`meter/${M}/hello`)));
  tt.false(mayPublish(pending, G, t(`meter/${M}/reading`)));
  tt.true(maySubscribe(pending, G, t(`meter/${M}/enrolment`)));
  tt.false(maySubscribe(pending, G, t(`meter/${M}/credit`)));
  tt.false(maySubscribe(pending, G, t('market/listing')));
});

test("a household reads its own meters, its own results and the market, and submits transactions", (tt) => {
  tt.true(mayPublish(household, G, t('tx')));
  tt.false(mayPublish(household, G, t(`meter/${M}/reading`)));
  tt.true(maySubscribe(household, G, t(`meter/${M}/reading`)));
  tt.true(maySubscribe(household, G, t(`meter/${M}/status`)));
  tt.false(maySubscribe(household, G, t(`meter/${OTHER}/reading`)), "a neighbour's meter");
  tt.false(maySubscribe(household, G, t(`meter/${M}/credit`)));
  tt.true(maySubscribe(household, G, t(`client/${H}/result`)));
  tt.false(maySubscribe(household, G, t(`client/${OTHER}/result`)));
  tt.true(maySubscribe(household, G, t('market/#')));
  tt.true(maySubscribe(household, G, `homeassistant/sensor/helios_${M}/import/config`));
  tt.true(maySubscribe(household, G, `homeassistant/sensor/helios_${M}/#`));
  tt.false(maySubscribe(household, G, `homeassistant/sensor/helios_${OTHER}/import/config`));
  tt.false(maySubscribe(household, G, 'homeassistant/#'));
});

test('the operator (Node-RED) and other authorities see the whole grid', (tt) => {
  tt.true(maySubscribe(operator, G, t('#')));
  tt.true(maySubscribe(operator, G, t('meter/+/status')));
  tt.true(maySubscribe(operator, G, 'homeassistant/#'));
  tt.false(maySubscribe(operator, G, 'helios/other/#'));
  tt.true(mayPublish(operator, G, t('operator/broadcast')));
  tt.true(mayPublish(authority, G, t('chain/block')));
  tt.false(mayPublish(household, G, t('operator/close')));
  tt.false(mayPublish(meter, G, t('chain/block')));
});

test('a meter restoring its lost state may only hear its own Restore and the time, and say its status (docs/protocol.md §4, "Restore")', (tt) => {
  const restoring: Role = { kind: 'restoringMeter', id: M };
  tt.true(maySubscribe(restoring, G, t(`meter/${M}/restore`)));
  tt.true(maySubscribe(restoring, G, t(`meter/${M}/time`)));
  for (const leaf of ['ack', 'credit', 'enrolment']) tt.false(maySubscribe(restoring, G, t(`meter/${M}/${leaf}`)), leaf);
  tt.false(maySubscribe(restoring, G, t(`meter/${OTHER}/restore`)), "another meter's Restore");
  tt.false(maySubscribe(restoring, G, t('market/listing')));
  tt.true(mayPublish(restoring, G, t(`meter/${M}/status`)));
  for (const leaf of ['reading', 'hello', 'restore']) tt.false(mayPublish(restoring, G, t(`meter/${M}/${leaf}`)), leaf);
  // Only that meter may hear it: no other role subscribes to a meter's restore topic, and no client publishes there.
  tt.true(maySubscribe(meter, G, t(`meter/${M}/restore`)), 'an enrolled meter checking a damaged state slot');
  tt.false(maySubscribe(meter, G, t(`meter/${OTHER}/restore`)));
  for (const role of [pending, household]) tt.false(maySubscribe(role, G, t(`meter/${M}/restore`)), role.kind);
  for (const role of [meter, pending, household, operator, authority, restoring]) tt.false(mayPublish(role, G, t(`meter/${M}/restore`)), role.kind);
});
