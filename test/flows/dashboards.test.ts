/**
 * The dashboards in a real browser (Debian's Chromium through playwright-core),
 * against a real gateway, real Node-RED and a simulated neighbourhood on the demo
 * clock (×60), one grid for both tests:
 *  - every page renders with live data, and a screenshot of each is written
 *    (HELIOS_SCREENSHOTS, default .tmp/dashboards; the current ones are in
 *    docs/dashboards/);
 *  - a household makes its key in the browser (WebCrypto) and downloads its backup;
 *    with the browser's storage cleared, the backup restores the same key; the
 *    operator registers it and enrols a pending meter to it from the Operator page,
 *    and it places a bid from its Household page that is on the ledger with a
 *    signature by that key;
 *  - a second household sees neither the first's balance nor its bids, in its page
 *    or anywhere on its socket; an anonymous socket gets no operator data; a wrong
 *    operator secret gets no socket at all;
 *  - the flows, not the gateway's fallback, open and close a listing;
 *  - a wallet file `helios wallet new` wrote, imported in the browser, is the CLI's
 *    key: from its Household page it bids, places and revokes a standing order, pays
 *    a prosumer directly and buys from the storage — each on the ledger with a
 *    signature by that key, each shown on the page — and sees its hours' export.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { anchoredClock, systemClock, verifyBody, type Signed } from '../../protocol/index.ts';
import { openKey, type KeystoreFile } from '../../gateway/keystore.ts';
import { createNodeMeter, type NodeMeter } from '../../firmware/platform/node/index.ts';
import { freePort } from '../../simulator/gatewayProcess.ts';
import { simulate } from '../../simulator/run.ts';
import { generate, type Scenario } from '../../simulator/scenario.ts';
import { tempDir } from '../helpers/grid.ts';

const shots = process.env.HELIOS_SCREENSHOTS ?? join(process.cwd(), '.tmp', 'dashboards');
const CLEO_PASSPHRASE = 'cleo keeps this safe';

async function until<T>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Everything the page's dashboard socket receives (polling and WebSocket). */
function socketTraffic(page: Page): string[] {
  const seen: string[] = [];
  page.on('websocket', (ws) => { if (ws.url().includes('/dashboard/socket.io')) ws.on('framereceived', (f) => seen.push(String(f.payload))); });
  page.on('response', async (r) => { if (r.url().includes('/dashboard/socket.io')) seen.push(await r.text().catch(() => '')); });
  return seen;
}

const testid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);
const text = async (page: Page, id: string) => (await testid(page, id).textContent({ timeout: 1000 }).catch(() => '')) ?? '';

interface Grid {
  scenario: Scenario;
  grid: string;
  info: { http: string; mqtt: string };
  secret: string;
  dash: string;
  /** The gateway's API as the operator (households' records are private to them and to it). */
  api<T>(path: string, init?: RequestInit): Promise<T>;
  browser: Browser;
  contexts: BrowserContext[];
  meters: NodeMeter[];
  cleo: { email: string; keyFile: string; file: KeystoreFile; meter: string };
  stop: AbortController;
  sim: Promise<unknown>;
}
let g: Grid | undefined;

test.before(async () => {
  mkdirSync(shots, { recursive: true });
  // Sim time starts at 05:55: the flows are up by 06:00 and open the 07:00 listing, and close it at 06:59.
  const day = new Date();
  const start = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 5, 55)).toISOString();
  const scenario = generate({ households: 4, speed: 60, seed: 7, start, durationMinutes: 24 * 60 });
  const dir = tempDir('helios-dash-');
  const flowsPort = await freePort();
  const stop = new AbortController();
  const sim = simulate({ scenario, dataDir: dir, view: 'none', forever: true, signal: stop.signal, flowsPort, gatewayLogLevel: 'error' });
  const meters: NodeMeter[] = [];
  g = { scenario, stop, sim, meters, contexts: [] } as unknown as Grid;
  const run = join(dir, 'run', 'gateway.json');
  const info = await until('the gateway', () => existsSync(run) && (JSON.parse(readFileSync(run, 'utf8')) as { http: string; mqtt: string }), 60_000);
  const secret = readFileSync(join(dir, 'operator.secret'), 'utf8').trim();
  const api = async <T>(path: string, init?: RequestInit): Promise<T> =>
    (await fetch(info.http + path, init ?? { headers: { authorization: `Bearer ${secret}` } })).json() as Promise<T>;
  const authority = (body: object) => api<{ status: string; code?: string; message?: string }>('/api/authority/tx?wait=commit', {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` }, body: JSON.stringify(body),
  });
  const dash = `http://127.0.0.1:${flowsPort}/dashboard`;
  await until('the simulated households', async () => (await api<unknown[]>('/api/participants').catch(() => [])).length === 4, 60_000);
  const grid = (await api<{ grid: string }>('/api/genesis')).grid;

  // Cleo's wallet is the file `helios wallet new` writes. She is a prosumer with a meter exporting 3 kW on the grid's
  // clock from now on, so that by the second test her hours have figures and the storage holds her export
  // (the gateway deposits a prosumer's export that was not offered, a quarter of a period after each period).
  const keyFile = join(dir, 'cleo.key');
  const made = spawnSync(process.execPath, [join(process.cwd(), 'bin', 'helios.js'), 'wallet', 'new', '--out', keyFile, '--label', 'cleo'], {
    env: { ...process.env, HELIOS_WALLET_PASSPHRASE: CLEO_PASSPHRASE }, encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`helios wallet new failed: ${made.stderr}`);
  const file = JSON.parse(readFileSync(keyFile, 'utf8')) as KeystoreFile;
  const email = 'cleo@example.org';
  for (const body of [
    { type: 'RegisterParticipant', name: 'Cleo', email, role: 'prosumer', publicKey: file.publicKey },
    { type: 'Mint', to: email, amountMicroHec: 10_000_000 },
  ]) {
    const r = await authority(body);
    if (r.status !== 'committed') throw new Error(`${JSON.stringify(body)}: ${r.code} ${r.message}`);
  }
  const health = await api<{ t: number }>('/api/health');
  const clock = anchoredClock(systemClock(), scenario.speed, health.t, Date.now());
  const pv = createNodeMeter({ grid, brokerUrl: info.mqtt, clock, power: -3000, config: { readingPeriodMs: 60_000 } });
  meters.push(pv);
  const enrolled = await authority({ type: 'EnrollMeter', meter: pv.meter.meterId, publicKey: pv.meter.publicKey, participant: email, installer: 'test', location: 'roof', pulsesPerKWh: 1000, relay: false });
  if (enrolled.status !== 'committed') throw new Error(`EnrollMeter: ${enrolled.code} ${enrolled.message}`);
  pv.start();

  await until('Node-RED', () => fetch(`${dash}/market`).then((r) => r.ok, () => false), 60_000);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  g = { scenario, grid, info, secret, dash, api, browser, contexts: [], meters, cleo: { email, keyFile, file, meter: pv.meter.meterId }, stop, sim };
});

test.afterEach.always(async (t) => {
  // What each page showed when a test failed.
  if (t.passed || !g) return;
  t.log(pageErrors.slice(-30).join('\n'));
  for (const [i, c] of g.contexts.entries()) for (const [j, p] of c.pages().entries()) await p.screenshot({ path: join(shots, `failed-${i}-${j}.png`), fullPage: true }).catch(() => undefined);
});

test.after.always(async () => {
  if (!g) return;
  for (const m of g.meters) m.stop();
  await g.browser?.close();
  g.stop.abort();
  await g.sim.catch(() => undefined);
});

/** Errors the pages logged, shown when a test fails. */
const pageErrors: string[] = [];

async function newPage(): Promise<Page> {
  const c = await g!.browser.newContext({ viewport: { width: 1280, height: 1000 } });
  g!.contexts.push(c);
  const p = await c.newPage();
  p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`));
  p.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`${p.url()}: ${m.text()}`); });
  return p;
}

/** A committed transaction, and whether its signature verifies with `publicKey`. */
async function signedOnLedger(id: string, publicKey: string): Promise<{ body: Record<string, unknown>; verifies: boolean }> {
  const tx = await g!.api<{ status: string; tx: Signed<Record<string, unknown>> }>(`/api/tx/${id}`);
  if (tx.status !== 'committed') throw new Error(`transaction ${id} is ${tx.status}`);
  return { body: tx.tx.body, verifies: verifyBody(tx.tx, publicKey) };
}

test.serial('dashboards: live pages; a browser wallet is backed up, restored, registered, enrolled and bids; households are kept apart; the flows run the market', async (t) => {
  t.timeout(240_000);
  const { api, dash, secret, info, scenario, grid } = g!;

  // — Market (public): the open listing and the storage, live.
  const pub = await newPage();
  const pubTraffic = socketTraffic(pub);
  await pub.goto(`${dash}/market`);
  await until('the listing card', async () => /^\d{4}-\d\d-\d\dT\d\d:00Z$/.test(await text(pub, 'listing-id')));
  await until('the storage', async () => (await testid(pub, 'storage-kwh').count()) > 0);
  await until('the book', async () => (await testid(pub, 'book-curves').count()) > 0);
  await pub.screenshot({ path: join(shots, 'market.png'), fullPage: true });

  // — Operator: a wrong secret gets no socket; the right one sees the grid.
  const op = await newPage();
  await op.goto(`${dash}/operator`);
  await testid(op, 'operator-secret').locator('input').fill('not-the-secret');
  await testid(op, 'operator-signin-button').click();
  await op.waitForLoadState();
  await op.waitForTimeout(1500);
  t.is(await testid(op, 'chain-height').count(), 0, 'a wrong operator secret sees nothing');
  await op.context().clearCookies();
  await op.goto(`${dash}/operator`);
  await testid(op, 'operator-secret').locator('input').fill(secret);
  await testid(op, 'operator-signin-button').click();
  await op.waitForLoadState();
  await until('the chain head on the operator page', async () => (await testid(op, 'chain-height').count()) > 0);
  await until('the meters', async () => Number(await testid(op, 'meters-count').textContent()) === 5);

  // — Household A makes its key in the browser, with a passphrase for its backup, and downloads the backup.
  const a = await newPage();
  const aTraffic = socketTraffic(a);
  await a.goto(`${dash}/wallet`);
  await testid(a, 'wallet-passphrase').locator('input').fill('short');
  await testid(a, 'wallet-make').click();
  await until('the refusal of a short passphrase', async () => /E_WEAK_PASSPHRASE/.test(await text(a, 'wallet-error')));
  await testid(a, 'wallet-passphrase').locator('input').fill('nadia keeps this safe');
  await testid(a, 'wallet-make').click();
  await testid(a, 'wallet-public-key').waitFor({ timeout: 30_000 });
  const aKey = (await testid(a, 'wallet-public-key').textContent())!.trim();
  const aKeyId = (await testid(a, 'wallet-key-id').textContent())!.trim();
  t.regex(aKey, /^[A-Za-z0-9_-]{44}$/, 'a compressed P-256 key, base64url');
  const extractable = () => a.evaluate(async (url) => {
    const lib = (await import(url)) as { loadWallet(): Promise<{ publicKey: string } | null>; extractable(): boolean | undefined };
    const w = await lib.loadWallet();
    return { publicKey: w?.publicKey, extractable: lib.extractable() };
  }, '/helios/wallet.js');
  t.deepEqual(await extractable(), { publicKey: aKey, extractable: false }, 'the private key, stored in IndexedDB, cannot leave the browser');
  const [download] = await Promise.all([a.waitForEvent('download'), testid(a, 'wallet-backup-download').click()]);
  const backup = readFileSync((await download.path())!, 'utf8');
  t.regex(download.suggestedFilename(), /^helios-wallet-[0-9a-f]{8}\.key$/);
  t.is(openKey(JSON.parse(backup) as KeystoreFile, 'nadia keeps this safe').publicKey, aKey, 'the backup is a key file the CLI opens: the same key');

  // The browser's storage is lost; the backup brings the same key back (and a wrong passphrase does not).
  await a.evaluate(() => new Promise((resolve, reject) => { const r = (globalThis as unknown as { indexedDB: { deleteDatabase(n: string): { onsuccess: unknown; onblocked: unknown; onerror: unknown; error: unknown } } }).indexedDB.deleteDatabase('helios-wallet'); r.onsuccess = r.onblocked = () => resolve(null); r.onerror = () => reject(r.error); }));
  await a.reload();
  await testid(a, 'wallet-make').waitFor();
  t.is(await testid(a, 'wallet-public-key').count(), 0, 'no wallet left in this browser');
  await testid(a, 'wallet-import-file').setInputFiles({ name: download.suggestedFilename(), mimeType: 'application/json', buffer: Buffer.from(backup) });
  await testid(a, 'wallet-import-passphrase').locator('input').fill('not the passphrase');
  await testid(a, 'wallet-import').click();
  await until('the refusal of a wrong passphrase', async () => /E_BAD_PASSPHRASE/.test(await text(a, 'wallet-error')));
  await testid(a, 'wallet-import-passphrase').locator('input').fill('nadia keeps this safe');
  await testid(a, 'wallet-import').click();
  await testid(a, 'wallet-public-key').waitFor({ timeout: 30_000 });
  t.is((await testid(a, 'wallet-public-key').textContent())!.trim(), aKey, 'restored: the same public key');
  t.deepEqual(await extractable(), { publicKey: aKey, extractable: false }, 'stored again as a key that cannot be read out');

  // The operator registers it and mints it 10 HEC, from the Operator page.
  const email = 'nadia@example.org';
  await testid(op, 'register-name').locator('input').fill('Nadia');
  await testid(op, 'register-email').locator('input').fill(email);
  await testid(op, 'register-key').locator('input').fill(aKey);
  await testid(op, 'register-button').click();
  await until('the registration', async () => /RegisterParticipant committed/.test((await testid(op, 'households-answer').textContent()) ?? ''));
  await testid(op, 'mint-to').locator('input').fill(email);
  await testid(op, 'mint-amount').locator('input').fill('10');
  await testid(op, 'mint-button').click();
  await until('the mint', async () => /Mint committed/.test((await testid(op, 'households-answer').textContent()) ?? ''));
  const me = await api<{ keyId: string; balanceMicroHec: number }>(`/api/participants/${email}`);
  t.is(me.keyId, aKeyId);
  t.is(me.balanceMicroHec, 10_000_000);

  // A meter says Hello; the operator enrols it to Nadia from the page.
  const meter = createNodeMeter({ grid, brokerUrl: info.mqtt, power: 300, powerStepMs: 60_000, config: { readingPeriodMs: 60_000 } });
  g!.meters.push(meter);
  meter.start();
  const mid = meter.meter.meterId;
  await until('the pending meter on the operator page', async () => (await testid(op, `pending-${mid}`).count()) > 0, 30_000);
  await testid(op, `enrol-email-${mid}`).locator('input').fill(email);
  await testid(op, `enrol-${mid}`).click();
  await until('the enrolment', async () => /enrolled in block/.test((await testid(op, 'enrol-answer').textContent()) ?? ''));
  t.like(await api(`/api/ledger/meters/${mid}`), { meter: mid, participant: email });
  await op.screenshot({ path: join(shots, 'operator.png'), fullPage: true });

  // Nadia saves her email, sees her balance on the Household page, and bids.
  await testid(a, 'wallet-email').locator('input').fill(email);
  await testid(a, 'wallet-save-email').click();
  await testid(a, 'wallet-saved').waitFor();
  await a.goto(`${dash}/household`);
  await until('her balance', async () => (await text(a, 'household-balance')) === '10.000000');
  await until('the open listing', async () => (await testid(a, 'bid-button').count()) > 0, 60_000);
  await testid(a, 'bid-kwh').locator('input').fill('0.5');
  await testid(a, 'bid-price').locator('input').fill('0.3');
  await testid(a, 'bid-button').click();
  const result = await until('the bid', async () => { const s = (await testid(a, 'bid-result').textContent()) ?? ''; return /in block|E_/.test(s) && s; });
  t.regex(result, /^bid [0-9a-f]{12}… in block \d+$/);
  await until('her bid in her history', async () => (await testid(a, 'my-buy').count()) > 0);
  await until('her escrow', async () => (await testid(a, 'household-escrow').textContent()) === '0.150000');

  // On the ledger, signed by the key her browser made.
  const current = await api<{ id: string; bidsPosted: Array<{ id: string; owner: string; energyMWh: number; priceMicroHecPerKWh: number }> }>('/api/market/listings/current');
  const bid = current.bidsPosted.find((b) => b.owner === email)!;
  t.like(bid, { energyMWh: 500_000, priceMicroHecPerKWh: 300_000 });
  const tx = await signedOnLedger(bid.id, aKey);
  t.like(tx.body, { type: 'BuyOffer', signer: aKeyId });
  t.true(tx.verifies, 'the signature verifies with her public key');

  // — Household B: another browser, another key. It sees its own figures only.
  const bEmail = 'omar@example.org';
  const b = await newPage();
  const bTraffic = socketTraffic(b);
  await b.goto(`${dash}/wallet`);
  await testid(b, 'wallet-passphrase').locator('input').fill('omar keeps this safe');
  await testid(b, 'wallet-make').click();
  await testid(b, 'wallet-public-key').waitFor({ timeout: 30_000 });
  const bKey = (await testid(b, 'wallet-public-key').textContent())!.trim();
  const reg = await api<{ status: string }>('/api/authority/tx?wait=commit', {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({ type: 'RegisterParticipant', name: 'Omar', email: bEmail, role: 'consumer', publicKey: bKey }),
  });
  t.is(reg.status, 'committed');
  await testid(b, 'wallet-email').locator('input').fill(bEmail);
  await testid(b, 'wallet-save-email').click();
  await b.screenshot({ path: join(shots, 'wallet.png'), fullPage: true });
  await b.goto(`${dash}/household`);
  await until('Omar\'s own page', async () => (await text(b, 'household-name')) === 'Omar');
  // Let a few of Nadia's refreshes (every 3 s; the slower parts every 12 s) happen while Omar is connected.
  await a.waitForTimeout(13_000);
  const bText = await b.innerText('body');
  t.notRegex(bText, /Nadia|nadia@example\.org/);
  t.is(await testid(b, 'my-buy').count(), 0);
  const bAll = bTraffic.join('\n');
  const aAll = aTraffic.join('\n');
  t.true(aAll.includes(email) && aAll.includes(bid.id), 'her own socket carries her data (so the check below can see it)');
  t.false(bAll.includes(email), 'Omar\'s socket never carries Nadia\'s email');
  t.false(bAll.includes(bid.id.slice(0, 16)) && bAll.includes('"mine"'), 'nor her bids');
  t.false(bAll.includes('"balanceMicroHec":10000000'), 'nor her balance');
  t.false(bAll.includes(mid), 'nor her meter');
  // The anonymous Market page got no operator data and nobody's private answers.
  const pAll = pubTraffic.join('\n');
  t.false(pAll.includes('"topic":"participants"') || pAll.includes('"topic":"meters"') || pAll.includes('"topic":"metrics"'));
  t.false(pAll.includes(email));

  // — The flows, not the fallback, opened and closed a listing.
  const both = await until('a listing opened and closed by the flows', async () => {
    const h = await api<Array<{ id: string; openedBy?: string; closedBy?: string }>>('/api/market/history?limit=24');
    return h.find((l) => l.openedBy === 'flows' && l.closedBy === 'flows');
  }, 120_000);
  t.log(`listing ${both.id}: opened and closed by the flows (scenario seed ${scenario.seed})`);
  await pub.screenshot({ path: join(shots, 'market.png'), fullPage: true });
});

test.serial('a wallet file from `helios wallet new`, imported in the browser, bids, orders, buys directly and from storage, each signed by the CLI\'s key; its hours show its export', async (t) => {
  t.timeout(240_000);
  const { api, dash, cleo, scenario } = g!;
  const c = await newPage();
  await c.goto(`${dash}/wallet`);
  await testid(c, 'wallet-import-file').setInputFiles(cleo.keyFile);
  await testid(c, 'wallet-import-passphrase').locator('input').fill(CLEO_PASSPHRASE);
  await testid(c, 'wallet-import').click();
  await testid(c, 'wallet-public-key').waitFor({ timeout: 30_000 });
  t.is((await testid(c, 'wallet-public-key').textContent())!.trim(), cleo.file.publicKey, 'the CLI wallet\'s public key');
  t.is((await testid(c, 'wallet-key-id').textContent())!.trim(), cleo.file.keyId);
  await testid(c, 'wallet-email').locator('input').fill(cleo.email);
  await testid(c, 'wallet-save-email').click();
  await testid(c, 'wallet-saved').waitFor();
  await c.goto(`${dash}/household`);
  await until('Cleo\'s page', async () => (await text(c, 'household-name')) === 'Cleo');
  const mine = async <T>(path: string) => api<T[]>(`${path}${path.includes('?') ? '&' : '?'}participant=${cleo.email}`);
  const submitted = async (id: string, result: string) => until(`the answer in ${id}`, async () => { const s = await text(c, id); return /in block|E_/.test(s) && s; }, 60_000).then((s) => { t.regex(s, result === '' ? /in block \d+$/ : new RegExp(result), `${id}: ${s}`); return s; });

  // A bid signed in the browser with the CLI's key, accepted by the gateway.
  await until('the open listing', async () => (await testid(c, 'bid-button').count()) > 0, 60_000);
  await testid(c, 'bid-kwh').locator('input').fill('0.4');
  await testid(c, 'bid-price').locator('input').fill('0.3');
  await testid(c, 'bid-button').click();
  await submitted('bid-result', '^bid [0-9a-f]{12}… in block \\d+$');
  const listing = await api<{ bidsPosted: Array<{ id: string; owner: string; energyMWh: number }> }>('/api/market/listings/current');
  const bid = listing.bidsPosted.find((b) => b.owner === cleo.email)!;
  t.is(bid.energyMWh, 400_000);
  const bidTx = await signedOnLedger(bid.id, cleo.file.publicKey);
  t.true(bidTx.verifies, 'the bid verifies with the public key `helios wallet new` printed');
  t.like(bidTx.body, { type: 'BuyOffer', signer: cleo.file.keyId, meter: cleo.meter });

  // A standing order: placed, listed as active; revoked, listed as revoked.
  await testid(c, 'order-kwh').locator('input').fill('2');
  await testid(c, 'order-price').locator('input').fill('0.25');
  await testid(c, 'order-button').click();
  await submitted('order-result', '^standing buy order [0-9a-f]{12}… in block \\d+$');
  const [order] = await mine<{ id: string; side: string; energyMWh: number; priceMicroHecPerKWh: number; active: boolean }>('/api/market/orders');
  t.like(order, { side: 'buy', energyMWh: 2_000_000, priceMicroHecPerKWh: 250_000, active: true });
  t.true((await signedOnLedger(order.id, cleo.file.publicKey)).verifies);
  await until('the order on her page', async () => (await text(c, `order-state-${order.id}`)) === 'active');
  await testid(c, `revoke-${order.id}`).click();
  await until('the revocation', async () => /^revoked [0-9a-f]{12}… in block \d+$/.test(await text(c, 'order-result')));
  await until('the order revoked on her page', async () => (await text(c, `order-state-${order.id}`)) === 'revoked');
  t.false((await mine<{ id: string; active: boolean }>('/api/market/orders')).find((o) => o.id === order.id)!.active);

  // A direct purchase from a simulated prosumer.
  const seller = scenario.households.find((h) => h.role === 'prosumer')!.email;
  await testid(c, 'direct-seller').locator('input').fill(seller);
  await testid(c, 'direct-kwh').locator('input').fill('1');
  await testid(c, 'direct-amount').locator('input').fill('0.3');
  await testid(c, 'direct-minutes').locator('input').fill('30');
  await testid(c, 'direct-button').click();
  await submitted('direct-result', `^paid ${seller.replace(/\./g, '\\.')} 0\\.300000 HEC for 1\\.000 kWh: [0-9a-f]{12}… in block \\d+$`);
  const direct = (await mine<{ id: string; kind: string; seller?: string; amountMicroHec: number }>('/api/market/purchases')).find((p) => p.kind === 'direct')!;
  t.like(direct, { seller, amountMicroHec: 300_000 });
  t.like((await signedOnLedger(direct.id, cleo.file.publicKey)), { verifies: true, body: { type: 'DirectPurchase', meter: cleo.meter, durationMs: 1_800_000 } });
  await until('the direct purchase on her page', async () => (await testid(c, 'my-purchase-direct').count()) > 0);

  // Her meter has exported since before the first test: today's hours show it, as the gateway counts it.
  const exported = await until('her export today', async () => { const v = Number(await text(c, 'today-export')); return v > 0 && v; }, 60_000);
  t.true(exported > 0);
  t.true((await testid(c, 'hourly-chart').locator('rect').count()) >= 48, 'a bar pair for each hour of the day');

  // The storage holds her deposited export by now (or soon): she buys some of it back.
  await until('energy in storage, on her page', async () => Number(await text(c, 'storage-available')) >= 0.5, 120_000);
  await testid(c, 'storage-kwh').locator('input').fill('0.5');
  await testid(c, 'storage-buy-button').click();
  await submitted('storage-result', '^bought 0\\.500 kWh from storage: [0-9a-f]{12}… in block \\d+$');
  const fromStorage = (await mine<{ id: string; kind: string; energyMWh: number }>('/api/market/purchases')).find((p) => p.kind === 'storage')!;
  t.is(fromStorage.energyMWh, 500_000);
  t.like((await signedOnLedger(fromStorage.id, cleo.file.publicKey)), { verifies: true, body: { type: 'StoragePurchase', meter: cleo.meter } });
  await until('the storage purchase on her page', async () => (await testid(c, 'my-purchase-storage').count()) > 0);
  await c.screenshot({ path: join(shots, 'household.png'), fullPage: true });
});
