/**
 * Power cuts on a meter running the firmware core (node platform) against a real
 * gateway (Aedes, SQLite, ledger), at ×300: a reading every 0.2 s. The meter's
 * storage loses power on purpose at chosen writes — mid state record, mid outbox
 * entry, mid enrolment certificate — and at random ones, with the gateway up and
 * down; each time the meter is switched off there and on again on the same flash.
 *
 * After all of them: the same key every boot; no sequence number carried two
 * different readings; registers never went down, in what the meter sent or what the
 * gateway stored; every reading the flash held as durable at a cut was stored by
 * the gateway exactly once; and the meter ends running, its outbox drained.
 */
import test from 'ava';
import { DOMAIN, ENROLMENT_PREF } from '../../firmware/core/index.ts';
import type { CutKind } from '../../firmware/platform/node/index.ts';
import { CutRig, persistedReadings, until } from './helpers/cut-rig.ts';

/** A deterministic generator, so a failing run can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

interface Plan {
  what: string;
  match?: RegExp;
  kind: CutKind;
  atWrite: number;
  gatewayDown: boolean;
  /** Remove the stored certificate before the boot, so the meter writes it again (and the cut can land in that write). */
  dropEnrolment?: boolean;
}

test('power cuts at chosen and random writes, gateway up and down: same key, no sequence reused, registers never lower, every durable reading stored exactly once', async (t) => {
  const seed = Number(process.env.HELIOS_CUT_SEED ?? 17);
  const random = rng(seed);
  const rig = new CutRig();
  t.teardown(() => rig.close());
  const id = await rig.commission();
  const kinds: CutKind[] = ['torn', 'erased', 'before'];
  const plans: Plan[] = [
    { what: 'mid state record (torn)', match: /^state/, kind: 'torn', atWrite: 3, gatewayDown: false },
    { what: 'mid state record (erased, as NVS)', match: /^state/, kind: 'erased', atWrite: 2, gatewayDown: false },
    { what: 'mid outbox entry, gateway down', match: /^ob/, kind: 'torn', atWrite: 2, gatewayDown: true },
    { what: 'mid state record, gateway down', match: /^state/, kind: 'torn', atWrite: 4, gatewayDown: true },
    { what: 'mid enrolment certificate', match: /^enrol$/, kind: 'torn', atWrite: 1, gatewayDown: false, dropEnrolment: true },
    { what: 'mid wallet record', match: /^wal/, kind: 'torn', atWrite: 1, gatewayDown: false },
  ];
  for (let i = 0; i < 10; i++) {
    plans.push({ what: `random write #${i}`, kind: kinds[Math.floor(random() * 3)], atWrite: 1 + Math.floor(random() * 12), gatewayDown: random() < 0.4 });
  }
  const durable: Array<{ plan: string; pending: number[]; ackSeq: number }> = [];
  const cutAt: string[] = [];
  for (const plan of plans) {
    if (plan.gatewayDown && rig.gateway) await rig.stopGateway();
    if (!plan.gatewayDown && !rig.gateway) await rig.startGateway();
    if (plan.dropEnrolment) {
      rig.kill();
      rig.flash.delete(DOMAIN, ENROLMENT_PREF);
      rig.boot();
    }
    rig.store.cutAt({ atWrite: plan.atWrite, kind: plan.kind, match: plan.match });
    await until(`the cut (${plan.what})`, () => rig.store.dead, 30_000);
    cutAt.push(`${plan.what}: ${rig.store.cut!.domain}/${rig.store.cut!.key} ${rig.store.cut!.kind}`);
    rig.kill();
    const p = persistedReadings(rig.flash, 60);
    durable.push({ plan: plan.what, ...p });
    rig.boot();
    t.is(rig.meter.meterId, id, `same key after: ${plan.what}`);
    // Some life between cuts: a reading or two.
    await new Promise((r) => setTimeout(r, 150 + Math.floor(random() * 300)));
  }
  if (!rig.gateway) await rig.startGateway();
  await until('the meter running, restored, its outbox drained', () => {
    const s = rig.meter.snapshot();
    return s.session === 'online' && s.restoring === null && s.outbox.length === 0 && s.seq > 0;
  }, 30_000);
  const lastSeq = rig.meter.snapshot().seq;
  await until('a reading after the last cut stored', () => (rig.gw.metering.lastReading(id)?.seq ?? 0) >= lastSeq);

  // Same key at every boot.
  t.deepEqual([...new Set(rig.ids)], [id]);
  // The cuts landed where they were aimed.
  t.regex(cutAt[0], /helios\/state[01] torn/);
  t.regex(cutAt[2], /helios\/ob\d+ torn/);
  t.regex(cutAt[4], /helios\/enrol torn/);
  t.log(cutAt.join('\n'));

  // No sequence number ever stood for two different readings (a resend is byte for byte the same).
  const bySeq = new Map<number, Set<string>>();
  for (const p of rig.published) (bySeq.get(p.seq) ?? bySeq.set(p.seq, new Set()).get(p.seq)!).add(p.payload);
  const reused = [...bySeq].filter(([, texts]) => texts.size > 1).map(([seq]) => seq);
  t.deepEqual(reused, [], 'sequence numbers reused for different readings');

  // Registers never went down: in sequence order, over everything the meter sent.
  const sent = [...bySeq.keys()].sort((a, b) => a - b).map((s) => rig.published.find((p) => p.seq === s)!);
  const down = sent.filter((p, i) => i > 0 && (p.importMWh < sent[i - 1].importMWh || p.exportMWh < sent[i - 1].exportMWh)).map((p) => p.seq);
  t.deepEqual(down, [], 'readings whose registers are below an earlier reading\'s');
  const stored = rig.gw.metering.readings(id, 0, Number.MAX_SAFE_INTEGER).sort((a, b) => a.seq - b.seq);
  t.true(stored.every((r, i) => i === 0 || (r.importMWh >= stored[i - 1].importMWh && r.exportMWh >= stored[i - 1].exportMWh)), 'stored registers never decrease');
  t.true(stored[stored.length - 1].importMWh > stored[0].importMWh, 'energy was counted across the cuts');
  const refused = (await rig.gw.metrics.readingsRejected.get()).values.filter((v) => v.labels.code === 'E_REGISTER_DECREASED');
  t.is(refused.reduce((n, v) => n + v.value, 0), 0, 'the gateway refused no reading for decreasing registers');

  // Every reading the flash held as durable at a cut was stored, and once (seq is unique per meter in SQLite).
  const storedSeqs = new Set(stored.map((r) => r.seq));
  t.is(storedSeqs.size, stored.length);
  const missing = durable.flatMap((d) => d.pending.filter((s) => !storedSeqs.has(s)).map((s) => `${s} (${d.plan})`));
  t.deepEqual(missing, [], 'durable readings the gateway never stored');
  t.true(durable.some((d) => d.pending.length >= 2), `an outage left several readings durable in the outbox: ${JSON.stringify(durable.map((d) => d.pending.length))}`);
  // Everything acknowledged was stored too, of course.
  const maxAck = Math.max(...durable.map((d) => d.ackSeq));
  t.true(storedSeqs.has(maxAck));
  t.is(rig.meter.snapshot().restoring, null);
});
