/**
 * The broker's retained-message trie must deliver exactly what Aedes' own memory
 * persistence delivers for any filter (MQTT 3.1.1 §4.7), which is the oracle
 * here: random topic trees, random filters with + and #, $-topics, deletions.
 * Two differences are intended, both where Aedes' store departs from MQTT: it hands
 * `$…` topics to filters that start with a wildcard, which [MQTT-4.7.2-1] forbids,
 * and its + never matches an empty level. The trie follows the standard.
 */
import test from 'ava';
import fc from 'fast-check';
import memoryModule from 'aedes-persistence';
import type { PublishPacket } from 'aedes';
import type { Readable } from 'node:stream';
import { RetainedTrie, type RetainedStore } from '../../../gateway/broker/retained.ts';

const memory = memoryModule as unknown as () => RetainedStore & { setup(b: unknown): Promise<void> };

const packet = (topic: string, payload: string): PublishPacket =>
  ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: true, dup: false }) as PublishPacket;

/** What the oracle delivers for one filter, less the $-topics [MQTT-4.7.2-1] keeps from a leading wildcard. */
async function topicsOf(stream: Readable, filter: string): Promise<string[]> {
  const out: string[] = [];
  for await (const p of stream) {
    const tp = (p as PublishPacket).topic;
    if (tp.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) continue;
    out.push(tp);
  }
  return out.sort();
}

// No empty levels here: Aedes' matcher (qlobber) lets no + match an empty level, which
// MQTT allows ("+/+" matches "/finance", §4.7.1.3); the example test below covers them.
const level = fc.constantFrom('helios', 'g1', 'meter', 'm1', 'm2', 'status', 'cert', '$SYS', 'homeassistant');
const topic = fc.array(level, { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));
const filter = fc.array(fc.oneof(level, fc.constant('+')), { minLength: 1, maxLength: 5 }).chain((ls) =>
  fc.boolean().map((hash) => (hash ? [...ls, '#'] : ls).join('/')));
const ops = fc.array(fc.tuple(topic, fc.constantFrom('on', 'off', '')), { maxLength: 40 });

test('the trie matches what Aedes\' memory persistence matches, for random retained sets and filters', async (t) => {
  await fc.assert(fc.asyncProperty(ops, fc.array(fc.oneof(filter, fc.constant('#'), fc.constant('+/#')), { minLength: 1, maxLength: 6 }), async (writes, filters) => {
    const oracle = memory();
    await oracle.setup({});
    const trie = new RetainedTrie();
    for (const [tp, payload] of writes) {
      await oracle.storeRetained(packet(tp, payload));
      trie.store(packet(tp, payload));
    }
    for (const f of filters) {
      const want = await topicsOf(oracle.createRetainedStream(f), f);
      const got = [...trie.match(f)].map((p) => p.topic).sort();
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`filter ${f}: trie ${JSON.stringify(got)}, aedes ${JSON.stringify(want)}`);
    }
    const want: string[] = [];
    for (const f of filters) want.push(...await topicsOf(oracle.createRetainedStream(f), f));
    want.splice(0, want.length, ...[...new Set(want)].sort());
    const got = [...trie.matchAny(filters)].map((p) => p.topic).sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`filters ${filters}: trie ${JSON.stringify(got)}, aedes ${JSON.stringify(want)}`);
  }), { numRuns: 400 });
  t.pass();
});

test('MQTT 3.1.1 §4.7 by example: # includes the parent, + one level, $-topics hidden from leading wildcards, empty payload deletes', (t) => {
  const trie = new RetainedTrie();
  for (const tp of ['sport', 'sport/tennis', 'sport/tennis/player1', 'sport/golf', '$SYS/broker/load', 'a//b', '/finance']) trie.store(packet(tp, 'x'));
  const m = (f: string) => [...trie.match(f)].map((p) => p.topic).sort();
  t.deepEqual(m('sport/#'), ['sport', 'sport/golf', 'sport/tennis', 'sport/tennis/player1']);
  t.deepEqual(m('sport/+'), ['sport/golf', 'sport/tennis']);
  t.deepEqual(m('sport/tennis/player1'), ['sport/tennis/player1']);
  t.deepEqual(m('#'), ['/finance', 'a//b', 'sport', 'sport/golf', 'sport/tennis', 'sport/tennis/player1']);
  t.deepEqual(m('+/+'), ['/finance', 'sport/golf', 'sport/tennis']);
  t.deepEqual(m('/+'), ['/finance']);
  t.deepEqual(m('+/broker/load'), []);
  t.deepEqual(m('$SYS/#'), ['$SYS/broker/load']);
  t.deepEqual(m('a/+/b'), ['a//b']);
  t.is(trie.size, 7);
  trie.store(packet('sport/tennis', ''));
  t.deepEqual(m('sport/#'), ['sport', 'sport/golf', 'sport/tennis/player1']);
  trie.store(packet('sport/tennis/player1', ''));
  trie.store(packet('no/such/topic', ''));
  t.deepEqual(m('sport/#'), ['sport', 'sport/golf']);
  t.is(trie.size, 5);
});
