/**
 * protocol/ on the real XS machine, as the meter runs it: the messages a meter decodes
 * (Ack, Time, credit tokens, enrolment certificates, Restore) and builds (Reading, Hello,
 * Status, Login), and its topics, preloaded as the firmware preloads protocol/ — its
 * modules built into flash at link time, their schemas and patterns read-only there.
 * Each valid message, then each field replaced by values of every wrong kind, removed,
 * or joined by a stray field, then texts that are not JSON at all: XS in mcsim
 * (test/firmware/mcsim-platform/cases.js) and Node must give the same value, or the
 * same error code and the same message. The list runs three times on XS, so its
 * garbage collector runs many times while patterns match (XS 8.2.3 crashed running a
 * RegExp made at preload: protocol/patterns.ts).
 *
 * Skipped without the SDK, except under CI=true.
 */
import test from 'ava';
import * as protocol from '../../protocol/index.ts';
import { canonicalize, generateKeyPair, signBytes, toBase64url, utf8Encode } from '../../protocol/index.ts';
import { runCasesOnXs, type XsCase } from '../helpers/platformCheck.ts';

interface Case extends XsCase { name: string }

const SCHEMAS: Record<string, protocol.Schema<unknown>> = {
  Reading: protocol.ReadingBody, Ack: protocol.AckMessage, Time: protocol.TimeMessage,
  CreditToken: protocol.signed(protocol.CreditTokenBody), Enrolment: protocol.signed(protocol.EnrolmentBody),
  Hello: protocol.HelloBody, Status: protocol.StatusMessage, Login: protocol.LoginBody, Restore: protocol.RestoreMessage,
};

function examples(): Record<string, Record<string, unknown>> {
  const meter = generateKeyPair(() => Uint8Array.from({ length: 48 }, (_, i) => (i * 7 + 1) & 0xff));
  const authority = generateKeyPair(() => Uint8Array.from({ length: 48 }, (_, i) => (i * 13 + 5) & 0xff));
  const sign = (body: object) => ({ body, sig: toBase64url(signBytes(utf8Encode(canonicalize(body)), authority.secretKey)) });
  const t = 1_774_098_000_000;
  const reading = { type: 'Reading', grid: 'greenfield', meter: meter.keyId, seq: 42, t, importMWh: 1_234_567, exportMWh: 89, powerW: -1500, relay: 'closed', creditMWh: 5000, fw: 'helios-meter 0.9.0' };
  return {
    Reading: reading,
    Ack: { type: 'Ack', meter: meter.keyId, seq: 41, t },
    Time: { type: 'Time', t },
    CreditToken: sign({ type: 'CreditToken', grid: 'greenfield', meter: meter.keyId, energyMWh: 10_000_000, validFrom: t, validUntil: t + 3_660_000, nonce: 'ab'.repeat(16), issuer: authority.keyId, ref: '2026-03-21T13:00Z/utility' }),
    Enrolment: sign({ type: 'Enrolment', grid: 'greenfield', meter: meter.keyId, participant: 'dana@example.org', authority: authority.publicKey, pulsesPerKWh: 1000, relay: true, t }),
    Hello: { type: 'Hello', grid: 'greenfield', meter: meter.keyId, publicKey: meter.publicKey, fw: 'helios-meter 0.9.0' },
    Status: { type: 'Status', meter: meter.keyId, state: 'online', relay: 'open', fw: 'helios-meter 0.9.0', clock: 'set', t, fault: 'E_STATE_LOST' },
    Login: { type: 'Login', grid: 'greenfield', id: meter.keyId, client: `meter-${meter.keyId}`, iat: t, exp: t + 60_000, ctr: 1001, publicKey: meter.publicKey, restore: false },
    Restore: { type: 'Restore', meter: meter.keyId, reading: JSON.stringify({ body: reading, sig: 'A'.repeat(86) }), login: '{"body":{}}', t },
  };
}

/** Values of every kind a field could wrongly hold, and some right-looking ones that are wrong in detail. */
const WRONG: unknown[] = [
  null, true, 0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e300, '', 'x', '12', 'A'.repeat(32), 'g'.repeat(32), 'ab'.repeat(17),
  'Greenfield', '-greenfield', 'a'.repeat(33), 'dana@EXAMPLE.org', 'dana@example', 'helios-meter\u202e0.9', 'line\nbreak', 'é€😀',
  'A'.repeat(44), 'A'.repeat(86), 'open', 'closed', 'E_KEY_LOST', [], {}, ['x'], { nested: { deeper: 1 } },
];

function cases(): Case[] {
  const out: Case[] = [];
  const add = (name: string, fn: string, ...args: string[]) => out.push({ name, fn, args: args.map((text) => ({ text })) });
  for (const [schema, valid] of Object.entries(examples())) {
    add(`${schema}: valid`, 'decode', schema, JSON.stringify(valid));
    const fields: Array<[string[], unknown]> = [];
    const walk = (v: Record<string, unknown>, path: string[]) => {
      for (const [k, x] of Object.entries(v)) {
        if (x && typeof x === 'object' && !Array.isArray(x)) walk(x as Record<string, unknown>, [...path, k]);
        fields.push([[...path, k], x]);
      }
    };
    walk(valid, []);
    const withField = (path: string[], value: unknown, remove = false) => {
      const copy = structuredClone(valid);
      let at: Record<string, unknown> = copy;
      for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
      if (remove) delete at[path.at(-1)!];
      else at[path.at(-1)!] = value;
      return JSON.stringify(copy);
    };
    for (const [path] of fields) {
      const where = path.join('.');
      for (const w of WRONG) add(`${schema}: ${where} = ${JSON.stringify(w)}`, 'decode', schema, withField(path, w));
      add(`${schema}: without ${where}`, 'decode', schema, withField(path, undefined, true));
    }
    add(`${schema}: a stray field`, 'decode', schema, withField(['stray'], 1));
    add(`${schema}: an array`, 'decode', schema, `[${JSON.stringify(valid)}]`);
  }
  // Texts that are not (strict) JSON, or too much of it.
  for (const [name, text] of [
    ['empty', ''], ['not JSON', 'Ack'], ['truncated', '{"type":"Time","t":17'], ['a duplicate key', '{"type":"Time","t":1,"t":2}'],
    ['a trailing comma', '{"type":"Time","t":1,}'], ['single quotes', "{'type':'Time','t':1}"], ['a lone surrogate', '{"type":"Time\\ud800","t":1}'],
    ['a bad escape', '{"type":"Ti\\xme","t":1}'], ['a leading zero', '{"type":"Time","t":01}'], ['NaN', '{"type":"Time","t":NaN}'],
    ['deep nesting', '['.repeat(200) + ']'.repeat(200)], ['trailing text', '{"type":"Time","t":1} x'], ['too large', `{"type":"Time","t":1,"pad":"${'x'.repeat(2100)}"}`],
    ['a byte-order mark', '\ufeff{"type":"Time","t":1}'], ['a control character in a string', '{"type":"Time\u0001","t":1}'],
  ] as const) add(`Time: ${name}`, 'decode', 'Time', text);
  // Topics.
  const meterId = (examples().Ack as { meter: string }).meter;
  for (const leaf of [...protocol.METER_LEAVES, 'nope']) add(`topic meter/${leaf}`, 'parseTopic', `helios/greenfield/meter/${meterId}/${leaf}`);
  for (const topic of [
    'helios/greenfield/market/listing', 'helios/greenfield/market/trades', 'helios/greenfield/chain/head', `helios/greenfield/tx/${meterId}/result`,
    'helios/Greenfield/market/listing', 'helios/-greenfield/market/listing', `helios/greenfield/meter/${meterId.toUpperCase()}/reading`,
    `helios/greenfield/meter/${meterId}x/reading`, `helios/greenfield/meter/${meterId}/reading/x`, 'helios', 'helios/greenfield', '', 'other/greenfield/market/listing',
    `helios/${'a'.repeat(33)}/market/listing`, 'helios/greenfield/meter/+/reading', 'helios/greenfield/#',
  ]) add(`topic ${topic}`, 'parseTopic', topic);
  return out;
}

/** What a case gives on Node, in the form cases.js prints. */
function expected(c: XsCase): unknown {
  const [a, b] = c.args.map((x) => (x as { text: string }).text);
  try {
    const v = c.fn === 'decode' ? protocol.decode(b, SCHEMAS[a], protocol.MAX_METER_MESSAGE_BYTES) : protocol.parseTopic(a);
    return v === undefined ? null : JSON.parse(JSON.stringify(v));
  } catch (e) {
    const err = e as { code?: string; message: string };
    return err.code ? { error: err.code, message: err.message } : 'throws';
  }
}

test('protocol/ preloaded on the real XS machine decodes and refuses the meter\'s messages and topics exactly as on Node', async (t) => {
  t.timeout(10 * 60_000);
  const once = cases();
  const list = [...once, ...once, ...once];
  const got = await runCasesOnXs(t, "protocol/'s messages", list);
  if (!got) return;
  const differ = list.flatMap((c, i) => {
    const want = expected(c);
    return JSON.stringify(got.get(i)) === JSON.stringify(want) ? [] : [`${c.name}: XS ${JSON.stringify(got.get(i))}, Node ${JSON.stringify(want)}`];
  });
  t.deepEqual(differ.slice(0, 20), [], `XS and Node agree on every case (${differ.length} differ)`);
  // Both outcomes, and the refusals people read.
  const results = once.map((_, i) => got.get(i) as { error?: string } | null);
  t.is(results.filter((r, i) => once[i].name.endsWith(': valid') && r && !r.error).length, Object.keys(SCHEMAS).length, 'every valid message decodes');
  const codes = new Set(results.map((r) => r?.error).filter(Boolean));
  for (const code of ['E_BAD_FORMAT', 'E_MALFORMED_JSON', 'E_TOO_LARGE', 'E_BAD_KEY']) t.true(codes.has(code), `some case refused with ${code}: ${[...codes].join(', ')}`);
  t.log(`${once.length} cases, ×3 on XS, all equal`);
});
