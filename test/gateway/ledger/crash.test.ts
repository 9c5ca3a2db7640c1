/**
 * Crash safety: a real `helios gateway` child is killed with SIGKILL while
 * transactions stream in, then restarted. The chain verifies, every transaction
 * that was reported committed is still there in the same block, and the balances
 * are exactly what the committed transactions say: nothing is half-applied.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SignedTx } from '../../../protocol/index.ts';
import { txId } from '../../../gateway/ledger/block.ts';
import { heliosBin, http, newGridDir, startChildGateway } from '../../helpers/gateway.ts';

const run = promisify(execFile);

test('SIGKILL during a stream of transactions loses nothing that was reported committed', async (t) => {
  const households = Array.from({ length: 4 }, (_, i) => ({ name: `House ${i}`, email: `house${i}@example.org`, role: 'consumer' as const, allocationMicroHec: 1_000_000_000 }));
  const grid = newGridDir({ blockPeriodMs: 150, households });
  let gw = await startChildGateway(grid.dir);

  const committed = new Map<string, number>(); // id → height, as reported before the crash
  let stop = false;
  const senders = grid.households.map(async (h, i) => {
    const to = grid.households[(i + 1) % grid.households.length];
    let n = 0;
    while (!stop) {
      n++;
      const tx = grid.tx(h, { type: 'Transfer', to: to.email, amountMicroHec: 1000 + n });
      const wait = n % 5 === 0 ? '?wait=commit' : '';
      try {
        const r = await http<{ id: string; status: string; height?: number; code?: string }>(gw.url + '/api/tx' + wait, 'POST', tx);
        if (r.body.status === 'committed') committed.set(r.body.id, r.body.height!);
        if (r.status >= 400) throw new Error(`unexpected refusal ${r.body.code}`);
        if (r.body.status === 'pending' && n % 5 === 0) throw new Error('wait=commit returned pending');
      } catch (e) {
        if (!stop) throw e;
        return;
      }
    }
  });
  await new Promise((r) => setTimeout(r, 2500));
  stop = true;
  await gw.kill('SIGKILL');
  await Promise.allSettled(senders);
  t.true(committed.size >= 10, `only ${committed.size} transactions were reported committed before the kill`);

  gw = await startChildGateway(grid.dir);
  try {
    const v = await run(process.execPath, [heliosBin, 'ledger', 'verify', '--data', grid.dir]);
    t.regex(v.stdout, /^OK: /);

    for (const [id, height] of committed) {
      const s = await http<{ status: string; height: number }>(gw.url + `/api/tx/${id}`);
      t.deepEqual([s.body.status, s.body.height], ['committed', height], `transaction ${id} was reported committed`);
    }

    // Balances equal allocations plus every committed transfer, exactly.
    const head = await http<{ height: number }>(gw.url + '/api/chain/head');
    const expected = new Map(grid.households.map((h) => [h.email, 1_000_000_000]));
    let transfers = 0;
    for (let h = 1; h <= head.body.height; h++) {
      const b = await http<{ txs: SignedTx[] }>(gw.url + `/api/chain/blocks/${h}`);
      for (const tx of b.body.txs) {
        if (tx.body.type !== 'Transfer') continue;
        const from = grid.households.find((x) => x.key.keyId === tx.body.signer)!.email;
        expected.set(from, expected.get(from)! - tx.body.amountMicroHec);
        expected.set(tx.body.to, expected.get(tx.body.to)! + tx.body.amountMicroHec);
        transfers++;
        committed.delete(txId(tx));
      }
    }
    t.is(committed.size, 0, 'every reported-committed transaction is in a stored block');
    t.true(transfers > 0);
    for (const [email, balance] of expected) {
      const p = await http<{ balanceMicroHec: number }>(gw.url + `/api/participants/${email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
      t.is(p.body.balanceMicroHec, balance, email);
    }
  } finally {
    await gw.kill();
  }
});
