/**
 * The dashboards in a real browser (Debian's Chromium through playwright-core),
 * against a real gateway, real Node-RED and a simulated neighbourhood on the demo
 * clock (×60), in one run:
 *  - every page renders with live data, and a screenshot of each is written
 *    (HELIOS_SCREENSHOTS, default .tmp/dashboards; the current ones are in
 *    docs/dashboards/);
 *  - a household makes its key in the browser (WebCrypto), the operator registers
 *    it and enrols a pending meter to it from the Operator page, and it places a bid
 *    from its Household page that is on the ledger with a signature by that key;
 *  - a second household sees neither the first's balance nor its bids, in its page
 *    or anywhere on its socket; an anonymous socket gets no operator data; a wrong
 *    operator secret gets no socket at all;
 *  - the flows, not the gateway's fallback, open and close a listing.
 */
import test from 'ava';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { verifyBody, type Signed } from '../../protocol/index.ts';
import { createNodeMeter } from '../../firmware/platform/node/index.ts';
import { freePort } from '../../simulator/gatewayProcess.ts';
import { simulate } from '../../simulator/run.ts';
import { generate } from '../../simulator/scenario.ts';
import { tempDir } from '../helpers/grid.ts';

const shots = process.env.HELIOS_SCREENSHOTS ?? join(process.cwd(), '.tmp', 'dashboards');

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

test('dashboards: live pages; a browser wallet is registered, enrolled and bids; households are kept apart; the flows run the market', async (t) => {
  t.timeout(240_000);
  mkdirSync(shots, { recursive: true });
  // Sim time starts at 05:55: the flows are up by 06:00 and open the 07:00 listing, and close it at 06:59.
  const day = new Date();
  const start = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 5, 55)).toISOString();
  const scenario = generate({ households: 4, speed: 60, seed: 7, start, durationMinutes: 24 * 60 });
  const dir = tempDir('helios-dash-');
  const flowsPort = await freePort();
  const stop = new AbortController();
  const sim = simulate({ scenario, dataDir: dir, view: 'none', forever: true, signal: stop.signal, flowsPort, gatewayLogLevel: 'error' });
  let browser: Browser | undefined;
  let meter: ReturnType<typeof createNodeMeter> | undefined;
  const contexts: BrowserContext[] = [];
  try {
    const run = join(dir, 'run', 'gateway.json');
    const info = await until('the gateway', () => existsSync(run) && (JSON.parse(readFileSync(run, 'utf8')) as { http: string; mqtt: string }), 60_000);
    const secret = readFileSync(join(dir, 'operator.secret'), 'utf8').trim();
    // The test checks the ledger as the operator: households' records are private to them and to it.
    const api = async <T>(path: string, init?: RequestInit): Promise<T> =>
      (await fetch(info.http + path, init ?? { headers: { authorization: `Bearer ${secret}` } })).json() as Promise<T>;
    const dash = `http://127.0.0.1:${flowsPort}/dashboard`;
    await until('the simulated households', async () => (await api<unknown[]>('/api/participants').catch(() => [])).length === 4, 60_000);
    await until('Node-RED', () => fetch(`${dash}/market`).then((r) => r.ok, () => false), 60_000);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    const context = async (): Promise<BrowserContext> => {
      const c = await browser!.newContext({ viewport: { width: 1280, height: 1000 } });
      contexts.push(c);
      return c;
    };

    // — Market (public): the open listing and the storage, live.
    const pub = await (await context()).newPage();
    const pubTraffic = socketTraffic(pub);
    await pub.goto(`${dash}/market`);
    await until('the listing card', async () => /^\d{4}-\d\d-\d\dT\d\d:00Z$/.test((await testid(pub, 'listing-id').textContent({ timeout: 1000 }).catch(() => '')) ?? ''));
    await until('the storage', async () => (await testid(pub, 'storage-kwh').count()) > 0);
    await until('the book', async () => (await testid(pub, 'book-curves').count()) > 0);
    await pub.screenshot({ path: join(shots, 'market.png'), fullPage: true });

    // — Operator: a wrong secret gets no socket; the right one sees the grid.
    const op = await (await context()).newPage();
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
    await until('the meters', async () => Number(await testid(op, 'meters-count').textContent()) === 4);

    // — Household A makes its key in the browser.
    const a = await (await context()).newPage();
    const aTraffic = socketTraffic(a);
    await a.goto(`${dash}/wallet`);
    await testid(a, 'wallet-make').click();
    const aKey = (await testid(a, 'wallet-public-key').textContent())!.trim();
    const aKeyId = (await testid(a, 'wallet-key-id').textContent())!.trim();
    t.regex(aKey, /^[A-Za-z0-9_-]{44}$/, 'a compressed P-256 key, base64url');
    t.is(await a.evaluate(async (url) => {
      const lib = (await import(url)) as { loadWallet(): Promise<unknown>; extractable(): boolean | undefined };
      await lib.loadWallet();
      return lib.extractable();
    }, '/helios/wallet.js'), false, 'the private key, stored in IndexedDB, cannot leave the browser');

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
    meter = createNodeMeter({ grid: `sim-${scenario.seed}`, brokerUrl: info.mqtt, power: 300, powerStepMs: 60_000, config: { readingPeriodMs: 60_000 } });
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
    await a.screenshot({ path: join(shots, 'wallet.png'), fullPage: true });
    await a.goto(`${dash}/household`);
    await until('her balance', async () => (await testid(a, 'household-balance').textContent({ timeout: 1000 }).catch(() => '')) === '10.000000');
    await until('the open listing', async () => (await testid(a, 'bid-button').count()) > 0, 60_000);
    await testid(a, 'bid-kwh').locator('input').fill('0.5');
    await testid(a, 'bid-price').locator('input').fill('0.3');
    await testid(a, 'bid-button').click();
    const result = await until('the bid', async () => { const s = (await testid(a, 'bid-result').textContent()) ?? ''; return /in block|E_/.test(s) && s; });
    t.regex(result, /^bid [0-9a-f]{12}… in block \d+$/);
    await until('her bid in her history', async () => (await testid(a, 'my-buy').count()) > 0);
    await until('her escrow', async () => (await testid(a, 'household-escrow').textContent()) === '0.150000');
    await a.screenshot({ path: join(shots, 'household.png'), fullPage: true });

    // On the ledger, signed by the key her browser made.
    const current = await api<{ id: string; bidsPosted: Array<{ id: string; owner: string; energyMWh: number; priceMicroHecPerKWh: number }> }>('/api/market/listings/current');
    const bid = current.bidsPosted.find((b) => b.owner === email)!;
    t.like(bid, { energyMWh: 500_000, priceMicroHecPerKWh: 300_000 });
    const tx = await api<{ status: string; tx: Signed<{ type: string; signer: string }> }>(`/api/tx/${bid.id}`);
    t.is(tx.status, 'committed');
    t.like(tx.tx.body, { type: 'BuyOffer', signer: aKeyId });
    t.true(verifyBody(tx.tx, aKey), 'the signature verifies with her public key');

    // — Household B: another browser, another key. It sees its own figures only.
    const bEmail = 'omar@example.org';
    const b = await (await context()).newPage();
    const bTraffic = socketTraffic(b);
    await b.goto(`${dash}/wallet`);
    await testid(b, 'wallet-make').click();
    const bKey = (await testid(b, 'wallet-public-key').textContent())!.trim();
    const reg = await api<{ status: string }>('/api/authority/tx?wait=commit', {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ type: 'RegisterParticipant', name: 'Omar', email: bEmail, role: 'consumer', publicKey: bKey }),
    });
    t.is(reg.status, 'committed');
    await testid(b, 'wallet-email').locator('input').fill(bEmail);
    await testid(b, 'wallet-save-email').click();
    await b.goto(`${dash}/household`);
    await until('Omar\'s own page', async () => (await testid(b, 'household-name').textContent({ timeout: 1000 }).catch(() => '')) === 'Omar');
    // Let a few of Nadia's refreshes (every 3 s) happen while Omar is connected.
    await a.waitForTimeout(7000);
    const bText = await b.innerText('body');
    t.notRegex(bText, /Nadia|nadia@example\.org/);
    t.is(await testid(b, 'my-buy').count(), 0);
    const bAll = bTraffic.join('\n');
    const aAll = aTraffic.join('\n');
    t.true(aAll.includes(email) && aAll.includes(bid.id), 'her own socket carries her data (so the check below can see it)');
    t.false(bAll.includes(email), 'Omar\'s socket never carries Nadia\'s email');
    t.false(bAll.includes(bid.id.slice(0, 16)) && bAll.includes('"mine"'), 'nor her bids');
    t.false(bAll.includes('"balanceMicroHec":10000000'), 'nor her balance');
    // The anonymous Market page got no operator data and nobody's private answers.
    const pAll = pubTraffic.join('\n');
    t.false(pAll.includes('"topic":"participants"') || pAll.includes('"topic":"meters"') || pAll.includes('"topic":"metrics"'));
    t.false(pAll.includes(email));

    // — The flows, not the fallback, opened and closed a listing.
    const both = await until('a listing opened and closed by the flows', async () => {
      const h = await api<Array<{ id: string; openedBy?: string; closedBy?: string }>>('/api/market/history?limit=24');
      return h.find((l) => l.openedBy === 'flows' && l.closedBy === 'flows');
    }, 120_000);
    t.log(`listing ${both.id}: opened and closed by the flows`);
    await pub.screenshot({ path: join(shots, 'market.png'), fullPage: true });
  } catch (e) {
    // What each page showed when it failed.
    for (const [i, c] of contexts.entries()) for (const [j, p] of c.pages().entries()) await p.screenshot({ path: join(shots, `failed-${i}-${j}.png`), fullPage: true }).catch(() => undefined);
    throw e;
  } finally {
    meter?.stop();
    await browser?.close();
    stop.abort();
    await sim.catch(() => undefined);
  }
});
