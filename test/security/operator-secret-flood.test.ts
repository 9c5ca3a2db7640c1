/**
 * Finding 3 of issue 13: each operator secret check was a synchronous scrypt on the
 * gateway's main thread, and nothing limited wrong guesses. Now the check runs off
 * the main thread, wrong guesses are throttled per source address, and a source that
 * keeps guessing is locked out — logged, and counted in /metrics — over MQTT
 * (mosquitto_pub, raw CONNECTs) and HTTP (requireOperator) alike, while the
 * operator's proven secret and other sources are unaffected.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gateway } from '../../gateway/gateway.ts';
import { createLogger } from '../../gateway/log.ts';
import { http, newGridDir } from '../helpers/gateway.ts';
import { metric, mosquitto, rawLogin } from '../helpers/attacker.ts';

const grid = newGridDir({ blockPeriodMs: 200 });
const lines: string[] = [];
let gw: Gateway;

test.before(async () => {
  // Three wrong guesses per source, then locked out for ten minutes.
  const cfgFile = join(grid.dir, 'gateway.json');
  const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(cfgFile, JSON.stringify({ ...cfg, operatorThrottle: { burst: 3, refillMs: 600_000, lockoutMs: 600_000 } }, null, 2));
  gw = await Gateway.start({
    dataDir: grid.dir, httpPort: 0, mqttPort: 0, mqttTlsPort: null, mqttWsPort: null,
    log: createLogger({ level: 'warn', write: (l) => lines.push(l) }),
  });
});
test.after.always(() => gw?.stop());

const mint = (secret: string) => http<{ code?: string }>(`${gw.httpUrl}/api/authority/tx`, 'POST', { type: 'Mint', to: grid.households[0].email, amountMicroHec: 1 }, { authorization: `Bearer ${secret}` });

test.serial('wrong operator secrets are throttled per source and the source is locked out, logged and counted; the proven secret and other sources still work', async (t) => {
  const port = gw.broker.ports.tcp!;
  // Node-RED logs in with the right secret first (MQTT): proven, remembered.
  const ok = await rawLogin(port, { clientId: 'node-red', username: 'operator', password: grid.operatorSecret });
  t.is(ok.code, 0);
  ok.socket.destroy();

  // An attacker on 127.0.0.1 guesses over MQTT with mosquitto_pub.
  const guess = (i: number) => mosquitto('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', '-i', `guess-${i}`, '-u', 'operator', '-P', `guess-${i}`, '-t', 'x', '-m', 'x']);
  const outs: string[] = [];
  for (let i = 0; i < 4; i++) outs.push((await guess(i)).out);
  for (const o of outs) t.regex(o, /not authori[sz]ed|bad user ?name or password|refused/i);
  t.is(await metric(gw.httpUrl, 'helios_operator_lockouts_total'), 1, 'the fourth wrong guess locked the source out');
  // Locked out: refused at once, as "server unavailable", without hashing.
  const locked = await guess(5);
  t.regex(locked.out, /unavailable/i, locked.out);
  // …and over HTTP from the same address too.
  const h = await mint('another-guess');
  t.is(h.status, 429);
  t.is(h.body.code, 'E_LOCKED_OUT');
  t.true((await metric(gw.httpUrl, 'helios_operator_secret_refused_total', { code: 'E_LOCKED_OUT' })) >= 2);
  t.is(await metric(gw.httpUrl, 'helios_operator_secret_refused_total', { code: 'E_WRONG_SECRET' }), 4);
  t.true(lines.some((l) => /locked out/.test(l) && /E_LOCKED_OUT/.test(l)), 'the lockout is logged');

  // The operator's proven secret still works from the same address (it is not a guess).
  const good = await mint(grid.operatorSecret);
  t.is(good.status, 202);
  // Another source is not locked out: its wrong guess is just wrong (bad user name or password).
  const other = await rawLogin(port, { clientId: 'elsewhere', username: 'operator', password: 'nope', localAddress: '127.0.0.2' });
  t.is(other.code, 4);
  other.socket.destroy();
});
