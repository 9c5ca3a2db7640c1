/**
 * Property-based fuzzing of the HTTP API (fast-check): random paths, query strings,
 * credentials and bodies — JSON of any shape, valid transactions with one field
 * replaced by anything, raw bytes — against a real gateway. Every answer carries a
 * documented status and a `{ code: "E_…", message }` body (never a 500, never the
 * framework's own), the gateway stays up, and afterwards `ledger verify` passes.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import fc from 'fast-check';
import { promisify } from 'node:util';
import { httpToken } from '../../protocol/index.ts';
import { Gateway } from '../../gateway/gateway.ts';
import { silentLogger } from '../../gateway/log.ts';
import { heliosBin, newGridDir } from '../helpers/gateway.ts';

const run = promisify(execFile);
/** docs/api.md and docs/protocol.md §9. */
const DOCUMENTED = new Set([200, 202, 400, 401, 402, 403, 404, 409, 413, 414, 429, 503, 504]);

const grid = newGridDir({ blockPeriodMs: 100 });
const [zarak, asad] = grid.households;

const segment = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('zarak@example.org', 'a'.repeat(64), 'a'.repeat(32), '0', '-1', '1e309', '%00', '%zz', '..', '%E2%80%AE', 'a'.repeat(3000)),
  fc.nat().map(String),
);
const template = fc.constantFrom(
  '/api/tx/:', '/api/participants/:', '/api/meters/:', '/api/meters/:/readings', '/api/meters/:/energy', '/api/ledger/meters/:',
  '/api/market/listings/:', '/api/chain/blocks/:', '/api/accounts/:/nonce', '/api/:', '/:', '/api/market/history', '/api/market/orders', '/api/participants', '/api/meters',
);
const query = fc.option(fc.dictionary(fc.constantFrom('from', 'to', 'limit', 'signed', 'participant', 'view', 'wait', 'timeoutMs', 'x'), segment, { maxKeys: 3 }), { nil: undefined });
const auth = fc.oneof(
  fc.constant(undefined),
  fc.constant(`Bearer ${grid.operatorSecret}`),
  fc.constant('HELIOS_TOKEN'),
  fc.string({ maxLength: 100 }).map((s) => `Helios ${s}`),
  fc.string({ maxLength: 100 }).map((s) => `Bearer ${s}`),
  fc.string({ maxLength: 60 }),
);

function pathOf(tpl: string, seg: string, q: Record<string, string> | undefined): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%25(zz|00|E2)/g, '%$1');
  const p = tpl.replace(':', enc(seg));
  return q ? `${p}?${Object.entries(q).map(([k, v]) => `${k}=${enc(v)}`).join('&')}` : p;
}

async function assertAnswer(res: Response, what: string): Promise<void> {
  const text = await res.text();
  if (!DOCUMENTED.has(res.status)) throw new Error(`${what}: undocumented status ${res.status}: ${text.slice(0, 300)}`);
  if (res.status >= 400) {
    let body: { code?: unknown; message?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`${what}: ${res.status} without a JSON body: ${text.slice(0, 200)}`);
    }
    if (typeof body.code !== 'string' || !/^E_[A-Z0-9_]+$/.test(body.code) || typeof body.message !== 'string') {
      throw new Error(`${what}: ${res.status} body is not { code, message }: ${text.slice(0, 300)}`);
    }
  }
}

test('random requests get documented answers, the gateway stays up, and the ledger still verifies', async (t) => {
  const gw = await Gateway.start({ dataDir: grid.dir, httpPort: 0, mqttPort: null, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
  try {
    const headersOf = (a: string | undefined): Record<string, string> => (a === undefined ? {} : { authorization: a === 'HELIOS_TOKEN' ? `Helios ${httpToken(zarak.key, grid.genesis.grid, gw.clock.now())}` : a });
    // GETs on every route shape.
    await fc.assert(fc.asyncProperty(template, segment, query, auth, async (tpl, seg, q, a) => {
      const path = pathOf(tpl, seg, q);
      let headers: Record<string, string>;
      try {
        headers = headersOf(a);
        new Headers(headers);
      } catch {
        return; // a header value fetch itself refuses to send
      }
      await assertAnswer(await fetch(gw.httpUrl + path, { headers }), `GET ${path.slice(0, 120)}`);
    }), { numRuns: 250 });

    // Bodies: anything JSON, valid transactions with a field replaced, raw text.
    const valid = () => grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 });
    const body = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.tuple(fc.constantFrom('type', 'amountMicroHec', 'to', 'nonce', 'signer', 'grid', 'memo', 't', 'extra'), fc.jsonValue()).map(([k, v]) => {
        const tx = valid();
        asad.nonce--;
        return JSON.stringify({ ...tx, body: { ...tx.body, [k]: v } });
      }),
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.array(fc.jsonValue(), { maxLength: 5 }).map((v) => JSON.stringify(v)),
    );
    const route = fc.constantFrom('/api/tx', '/api/txs', '/api/authority/tx', '/api/authority/txs', '/api/tx?wait=commit&timeoutMs=0');
    const type = fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'application/json; charset=utf-16');
    await fc.assert(fc.asyncProperty(route, body, type, auth, async (r, b, ct, a) => {
      let headers: Record<string, string>;
      try {
        headers = { 'content-type': ct, ...headersOf(a) };
        new Headers(headers);
      } catch {
        return;
      }
      await assertAnswer(await fetch(gw.httpUrl + r, { method: 'POST', headers, body: b }), `POST ${r} ${b.slice(0, 80)}`);
    }), { numRuns: 250 });

    const health = await fetch(gw.httpUrl + '/api/health');
    t.is(health.status, 200);
    // A valid transaction still goes through after all that.
    const ok = await fetch(gw.httpUrl + '/api/tx?wait=commit', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(valid()) });
    t.is(ok.status, 200, await ok.text());
  } finally {
    await gw.stop();
  }
  const v = await run(process.execPath, [heliosBin, 'ledger', 'verify', '--data', grid.dir]);
  t.regex(v.stdout, /^OK: /);
});
