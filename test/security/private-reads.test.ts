/**
 * Finding 9: a household's balance, email, history, orders, meters and readings are
 * private over HTTP, as the MQTT ACL already makes them. Real gateway, curl as the
 * client: without a credential every private read is 401 and shows nothing; a
 * household's signed token (Authorization: Helios …) reads its own data and gets 403
 * for a neighbour's; forged, expired, over-long, wrong-grid and MQTT tokens are
 * refused; the operator secret reads everything; public market data stays open. The
 * CLI signs with --wallet.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canonicalize, httpToken, signBody, toBase64url, utf8Encode, type KeyPair } from '../../protocol/index.ts';
import { Gateway } from '../../gateway/gateway.ts';
import { insecureKey, writeKeystore } from '../../gateway/keystore.ts';
import { silentLogger } from '../../gateway/log.ts';
import { heliosBin, http, newGridDir } from '../helpers/gateway.ts';
import { MqttMeter } from '../helpers/mqttMeter.ts';
import { curl } from '../helpers/tools.ts';

const run = promisify(execFile);
const grid = newGridDir({ blockPeriodMs: 100 });
const [zarak, asad] = grid.households;
const gw = await Gateway.start({ dataDir: grid.dir, httpPort: 0, mqttPort: null, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
test.after.always(() => gw.stop());
const op = { authorization: `Bearer ${grid.operatorSecret}` };
const zMeter = new MqttMeter(grid.genesis.grid, 901);
const aMeter = new MqttMeter(grid.genesis.grid, 902);
test.before(async () => {
  for (const [m, h] of [[zMeter, zarak], [aMeter, asad]] as const) {
    const r = await http(gw.httpUrl + '/api/authority/tx?wait=commit', 'POST', {
      type: 'EnrollMeter', meter: m.id, publicKey: m.key.publicKey, participant: h.email, installer: 'Ines', location: 'roof', pulsesPerKWh: 1000, relay: true,
    }, op);
    if (r.status !== 200) throw new Error(JSON.stringify(r));
  }
  // A standing order each, so /api/market/orders has something private to show.
  for (const [h, m] of [[zarak, zMeter], [asad, aMeter]] as const) {
    const r = await http(gw.httpUrl + '/api/tx?wait=commit', 'POST', grid.tx(h, { type: 'StandingOrder', side: h === zarak ? 'sell' : 'buy', meter: m.id, energyMWh: 1000, priceMicroHecPerKWh: 100_000 }));
    if (r.status !== 200) throw new Error(JSON.stringify(r));
  }
});

const token = (k: KeyPair, over: Record<string, unknown> = {}, signer = k) => {
  const now = Date.now();
  const body = { type: 'Login', grid: grid.genesis.grid, id: k.keyId, client: 'http', iat: now, exp: now + 60_000, ...over };
  return toBase64url(utf8Encode(canonicalize(signBody(body, signer.secretKey))));
};
const as = (tok: string) => ['-H', `authorization: Helios ${tok}`];

/** Every household-private read, with whose data it is. */
const privateOf = (h: typeof zarak, m: MqttMeter) => [
  `/api/participants/${h.email}`,
  `/api/meters/${m.id}`,
  `/api/meters/${m.id}/readings`,
  `/api/meters/${m.id}/energy?from=0&to=${Date.now()}`,
  `/api/ledger/meters/${m.id}`,
  `/api/market/history?participant=${h.email}`,
  `/api/market/orders?participant=${h.email}`,
];

test('without a credential, every private read is 401 and shows no email or balance', async (t) => {
  for (const path of [...privateOf(zarak, zMeter), '/api/participants', '/api/meters', '/api/market/orders']) {
    const r = await curl(gw.httpUrl + path);
    t.is(r.status, 401, path);
    t.is((r.body as { code: string }).code, 'E_UNAUTHENTICATED', path);
    t.false(r.text.includes('balanceMicroHec'), path);
    t.false(r.text.includes('@example.org') && !path.includes('@'), path);
  }
});

test("a household's signed token reads its own data and nobody else's", async (t) => {
  const z = as(httpToken(zarak.key, grid.genesis.grid, Date.now()));
  for (const path of privateOf(zarak, zMeter)) t.is((await curl(gw.httpUrl + path, z)).status, 200, path);
  for (const path of privateOf(asad, aMeter)) {
    const r = await curl(gw.httpUrl + path, z);
    t.is(r.status, 403, path);
    t.is((r.body as { code: string }).code, 'E_NOT_AUTHORIZED', path);
    t.false(r.text.includes('balanceMicroHec'));
  }
  const list = await curl(gw.httpUrl + '/api/participants', z);
  t.deepEqual((list.body as Array<{ email: string }>).map((p) => p.email), [zarak.email]);
  const meters = await curl(gw.httpUrl + '/api/meters', z);
  t.deepEqual((meters.body as Array<{ meter: string }>).map((m) => m.meter), [zMeter.id]);
  const orders = await curl(gw.httpUrl + '/api/market/orders', z);
  t.deepEqual([...new Set((orders.body as Array<{ owner: string }>).map((o) => o.owner))], [zarak.email]);
});

test('forged, expired, over-long, future, wrong-grid, wrong-client and garbage tokens are refused', async (t) => {
  const now = Date.now();
  const bad: Array<[string, string]> = [
    ["asad's key id signed with zarak's key", token(asad.key, {}, zarak.key)],
    ['expired', token(zarak.key, { iat: now - 120_000, exp: now - 60_000 })],
    ['a window over 15 minutes', token(zarak.key, { exp: now + 3_600_000 })],
    ['issued in the future', token(zarak.key, { iat: now + 600_000, exp: now + 700_000 })],
    ['another grid', token(zarak.key, { grid: 'other-grid' })],
    ['an MQTT login token', token(zarak.key, { client: zarak.key.keyId })],
    ['a counter token without a window', token(zarak.key, { iat: undefined, exp: undefined, ctr: 5 })],
    ['an unknown key', token(zMeter.key)],
    ['garbage', 'not-base64url-json'],
    ['a 5,000-character token', 'A'.repeat(5000)],
  ];
  for (const [what, tok] of bad) {
    const r = await curl(gw.httpUrl + `/api/participants/${zarak.email}`, as(tok));
    t.is(r.status, 401, what);
    t.is((r.body as { code: string }).code, 'E_UNAUTHENTICATED', what);
  }
  const wrong = await curl(gw.httpUrl + `/api/participants/${zarak.email}`, ['-H', 'authorization: Bearer not-the-secret']);
  t.is(wrong.status, 401);
  const basic = await curl(gw.httpUrl + `/api/participants/${zarak.email}`, ['-H', 'authorization: Basic emFyYWs6eA==']);
  t.is(basic.status, 401);
});

test('the operator secret reads every household; public market data needs nothing', async (t) => {
  const o = ['-H', op.authorization.replace(/^/, 'authorization: ')];
  for (const path of [...privateOf(zarak, zMeter), ...privateOf(asad, aMeter)]) t.is((await curl(gw.httpUrl + path, o)).status, 200, path);
  const all = await curl(gw.httpUrl + '/api/participants', o);
  t.is((all.body as unknown[]).length, grid.households.length);
  for (const path of ['/api/storage', '/api/chain/head', '/api/genesis', '/api/chain/blocks/1', '/api/market/history', '/api/health', '/api/authorities', `/api/accounts/${zarak.key.keyId}/nonce`]) {
    t.is((await curl(gw.httpUrl + path)).status, 200, path);
  }
});

test('the CLI signs private reads with --wallet, and a wallet cannot read a neighbour', async (t) => {
  const dir = grid.dir;
  const zFile = join(dir, 'zarak.key');
  writeKeystore(zFile, insecureKey(zarak.key, 'zarak'));
  const env = { ...process.env, HELIOS_OPERATOR_SECRET: '' };
  const own = await run(process.execPath, [heliosBin, 'wallet', 'balance', zarak.email, '--wallet', zFile, '--gateway', gw.httpUrl], { env });
  t.regex(own.stdout, /balance\s+100(\.0+)? HEC/);
  const other = await run(process.execPath, [heliosBin, 'participant', 'show', asad.email, '--wallet', zFile, '--gateway', gw.httpUrl], { env }).then(() => 'read', (e: { code: number; stderr: string }) => `${e.code} ${e.stderr}`);
  t.regex(other, /^1 helios: E_NOT_AUTHORIZED/);
  // A token for curl or a browser, from the CLI.
  const tok = await run(process.execPath, [heliosBin, 'wallet', 'token', '--wallet', zFile, '--minutes', '2', '--gateway', gw.httpUrl], { env });
  const viaCurl = await curl(gw.httpUrl + `/api/participants/${zarak.email}`, ['-H', `authorization: ${tok.stdout.trim()}`]);
  t.is(viaCurl.status, 200);
  t.is((viaCurl.body as { email: string }).email, zarak.email);
  // With --data, the operator secret in the data directory is used.
  const asOperator = await run(process.execPath, [heliosBin, 'participant', 'list', '--data', dir], { env });
  t.regex(asOperator.stdout, /asad@example\.org/);
  t.regex(asOperator.stdout, /zarak@example\.org/);
});
