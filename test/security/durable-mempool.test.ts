/**
 * Finding 8: a 202 from POST /api/tx means the transaction is in SQLite. Households
 * submit signed transfers over HTTP while the gateway is killed with SIGKILL at a
 * random moment; after the restart every transaction that was answered 202 is
 * pending or committed (never unknown), its nonce is taken (a second transaction
 * with it is refused), all of them commit, and the chain verifies.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { http, heliosBin, newGridDir, startChildGateway } from '../helpers/gateway.ts';

const run = promisify(execFile);
const NO_MQTT = ['--mqtt-port', 'off', '--mqtt-tls-port', 'off', '--mqtt-ws-port', 'off'];

test('transactions answered 202 survive SIGKILL at random moments, keep their nonces, and all commit', async (t) => {
  // Slow blocks, so most answered transactions are still pending when the gateway dies.
  const grid = newGridDir({ blockPeriodMs: 3000 });
  const [zarak, asad] = grid.households;
  const accepted: string[] = [];
  const rounds = 3;
  let gw = await startChildGateway(grid.dir, NO_MQTT);
  try {
    for (let round = 0; round < rounds; round++) {
      // Each household sends its transfers one after another (nonces in order), both at once.
      let alive = true;
      const send = async (from: typeof zarak, to: typeof asad) => {
        while (alive) {
          const tx = grid.tx(from, { type: 'Transfer', to: to.email, amountMicroHec: 1000 });
          const r = await http<{ id: string; status: string }>(gw.url + '/api/tx', 'POST', tx).catch(() => undefined);
          if (!r) {
            from.nonce--; // no answer: the client cannot know; it asks the gateway for the nonce after the restart
            return;
          }
          if (r.status === 202) accepted.push(r.body.id);
          else throw new Error(`refused: ${JSON.stringify(r.body)}`);
        }
      };
      const senders = [send(zarak, asad), send(asad, zarak)];
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 900));
      await gw.kill('SIGKILL');
      alive = false;
      await Promise.all(senders);
      gw = await startChildGateway(grid.dir, NO_MQTT);
      for (const id of accepted) {
        const s = await http<{ status: string }>(gw.url + `/api/tx/${id}`);
        if (s.status !== 200 || (s.body.status !== 'pending' && s.body.status !== 'committed')) {
          t.fail(`transaction ${id} was answered 202 before the crash, now ${s.status} ${JSON.stringify(s.body)}`);
          return;
        }
      }
      // The client resumes from the gateway's next nonce: every answered transaction holds its nonce.
      for (const h of [zarak, asad]) {
        const n = await http<{ nextNonce: number }>(gw.url + `/api/accounts/${h.key.keyId}/nonce`);
        t.true(n.body.nextNonce >= h.nonce + 1, `${h.name}: next nonce ${n.body.nextNonce}, answered up to ${h.nonce}`);
        h.nonce = n.body.nextNonce - 1;
      }
    }
    t.true(accepted.length > 20, `only ${accepted.length} transactions were answered`);
    // A transaction reusing an answered nonce is refused.
    zarak.nonce--;
    const reuse = await http<{ code: string }>(gw.url + '/api/tx', 'POST', grid.tx(zarak, { type: 'Transfer', to: asad.email, amountMicroHec: 7 }));
    t.is(reuse.status, 409);
    t.is(reuse.body.code, 'E_BAD_NONCE');
    // Everything answered 202 commits.
    const last = accepted[accepted.length - 1];
    const w = await http<{ status: string }>(gw.url + '/api/tx?wait=commit&timeoutMs=30000', 'POST', grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 }));
    t.is(w.body.status, 'committed');
    for (const id of accepted) {
      const s = await http<{ status: string }>(gw.url + `/api/tx/${id}`);
      t.is(s.body.status, 'committed', id);
    }
    t.truthy(last);
  } finally {
    await gw.kill();
  }
  const v = await run(process.execPath, [heliosBin, 'ledger', 'verify', '--data', grid.dir]);
  t.regex(v.stdout, /^OK: /);
});
