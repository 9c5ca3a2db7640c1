/**
 * Finding 10 (HTTP part): an over-long path gets Helios's `{ code, message }`, not the
 * web framework's own body; memos and names carrying bidirectional overrides (U+202E,
 * "Trojan Source") or other controls are refused by the protocol's schema, so every
 * path into the ledger refuses them. Real gateway, curl as the client.
 */
import test from 'ava';
import { parseJson, signed, TxBody } from '../../protocol/index.ts';
import { Gateway } from '../../gateway/gateway.ts';
import { silentLogger } from '../../gateway/log.ts';
import { newGridDir } from '../helpers/gateway.ts';
import { curl } from '../helpers/tools.ts';

const grid = newGridDir({ blockPeriodMs: 100 });
const [zarak, asad] = grid.households;
const gw = await Gateway.start({ dataDir: grid.dir, httpPort: 0, mqttPort: null, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
test.after.always(() => gw.stop());

test('a 5,000-character id gets 414 with a Helios error body, on every route with an id', async (t) => {
  const long = 'a'.repeat(5000);
  for (const path of [`/api/tx/${long}`, `/api/participants/${long}`, `/api/meters/${long}/readings`, `/api/market/listings/${long}`]) {
    const r = await curl(gw.httpUrl + path);
    t.is(r.status, 414, path);
    t.is((r.body as { code: string }).code, 'E_TOO_LONG', path);
    t.regex((r.body as { message: string }).message, /over 1024 characters/);
    t.false(r.text.includes('FST_'), 'no framework code leaks');
  }
  const bad = await curl(gw.httpUrl + '/api/tx/%zz');
  t.is(bad.status, 400);
  t.is((bad.body as { code: string }).code, 'E_BAD_REQUEST');
  const m = await curl(gw.httpUrl + '/metrics');
  t.regex(m.text, /helios_http_refused_total\{code="E_TOO_LONG"\} 4/);
});

const BIDI = ['\u202e', '\u202a', '\u2066', '\u2069', '\u200f', '\u061c', '\u0085', '\u009b', '\n', '\t', '\u0000'];

test('a transfer whose memo carries a bidirectional override or a control character is refused and changes nothing', async (t) => {
  const nonce = gw.ledger.nextNonce(asad.key.keyId);
  for (const ch of BIDI) {
    const tx = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1_000_000, memo: `rent ${ch}gnp.exe` });
    asad.nonce--;
    const r = await curl(gw.httpUrl + '/api/tx', ['-X', 'POST', '-H', 'content-type: application/json', '--data-binary', JSON.stringify(tx)]);
    const cp = ch.charCodeAt(0).toString(16);
    t.is(r.status, 400, `U+${cp}`);
    t.is((r.body as { code: string }).code, 'E_BAD_FORMAT', `U+${cp}`);
    t.is((r.body as { path: string }).path, 'body.memo');
  }
  t.is(gw.ledger.mempool.size, 0);
  t.is(gw.ledger.nextNonce(asad.key.keyId), nonce);
  // The same rule holds wherever a transaction is parsed (MQTT tx topic, block import, verify).
  const tx = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1, memo: 'x\u202ey' });
  asad.nonce--;
  t.throws(() => signed(TxBody).parse(parseJson(JSON.stringify(tx)), ''), { message: /U\+202E/ });
  // A plain memo, with accents and emoji, still goes through.
  const ok = grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1, memo: 'Grüße ☀️ for the 3 units' });
  const r = await curl(gw.httpUrl + '/api/tx', ['-X', 'POST', '-H', 'content-type: application/json', '--data-binary', JSON.stringify(ok)]);
  t.is(r.status, 202);
});

test('a participant name with a right-to-left override is refused by the operator route too', async (t) => {
  const r = await curl(gw.httpUrl + '/api/authority/tx', [
    '-X', 'POST', '-H', 'content-type: application/json', '-H', `authorization: Bearer ${grid.operatorSecret}`,
    '--data-binary', JSON.stringify({ type: 'RegisterParticipant', name: 'Bob\u202eevilA', email: 'bob@example.org', role: 'consumer', publicKey: zarak.key.publicKey }),
  ]);
  t.is(r.status, 400);
  t.is((r.body as { code: string }).code, 'E_BAD_FORMAT');
});
