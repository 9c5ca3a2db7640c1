/**
 * The flows' CI check: a real, read-only Node-RED loads flows/helios.json against a
 * real gateway with no missing node type, no dangling wire or reference, and no
 * error or warning at start — and the same check fails on a flow file that has any
 * of those. Node-RED refuses to start with an unset variable, and `helios flows`
 * exits non-zero on a data directory that is not a grid.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flowFile, lintFlows, type FlowNode } from '../../flows/check.ts';
import { redJs, settingsFile } from '../../flows/process.ts';
import { tempDir } from '../helpers/grid.ts';
import { heliosBin, newGridDir, startChildGateway } from '../helpers/gateway.ts';

const flows = () => JSON.parse(readFileSync(flowFile, 'utf8')) as FlowNode[];

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [heliosBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.once('exit', (code) => resolve({ code, out }));
  });
}

test('the flow file is sound: unique ids, every wire and reference resolves', (t) => {
  t.deepEqual(lintFlows(flows()), []);
});

test('the lint finds a dangling wire, a missing tab, a missing group and a duplicate id', (t) => {
  const f = flows();
  const ui = f.find((n) => n.type === 'ui-template')!;
  const wired = f.find((n) => (n.wires ?? []).some((p) => p.length > 0))!;
  const broken: FlowNode[] = [
    ...f.filter((n) => n !== ui && n !== wired),
    { ...ui, group: 'no-such-group' },
    { ...wired, wires: [['no-such-node']] },
    { id: 'orphan', type: 'inject', z: 'no-such-tab', wires: [] },
    { id: 'orphan', type: 'inject', wires: [] },
  ];
  const problems = lintFlows(broken).join('\n');
  t.regex(problems, /refers to group no-such-group/);
  t.regex(problems, /wired to no-such-node/);
  t.regex(problems, /on tab no-such-tab/);
  t.regex(problems, /duplicate id orphan/);
});

test('the lint finds a dashboard template whose script Dashboard 2.0 could not load', (t) => {
  const f = flows();
  const ui = f.find((n) => n.type === 'ui-template' && String(n.format).includes('<script>'))!;
  const rest = f.filter((n) => n !== ui);
  const withScript = (script: string) => lintFlows([...rest, { ...ui, format: String(ui.format).replace(/<script>[\s\S]*<\/script>/, `<script>${script}</script>`) }]).join('\n');
  t.regex(withScript('\nconst HOUR = 1\nexport default { data () { return { h: HOUR } } }\n'), /must begin with "export default/);
  t.regex(withScript('\nexport default { methods: { f () { this.x = } } }\n'), /does not parse/);
  t.is(withScript('\nexport default { methods: { f () { return 1 } } }\n'), '');
});

test('helios flows --check: the flows load in a real Node-RED against a real gateway; a missing node type and a start-up error fail it', async (t) => {
  const grid = newGridDir({ blockPeriodMs: 1000, marketPeriodMs: 60_000 });
  const gw = await startChildGateway(grid.dir);
  t.teardown(() => gw.kill());

  const ok = await run(['flows', '--check', '--data', grid.dir, '--port', '0']);
  t.is(ok.code, 0, ok.out);
  t.regex(ok.out, /✔ \d+ nodes in flows\/helios\.json load in Node-RED/);

  // A node type nobody provides: Node-RED would wait for it forever, logging at info level only.
  const dir = tempDir('helios-flows-');
  const missing = join(dir, 'missing.json');
  writeFileSync(missing, JSON.stringify([...flows(), { id: 'x1', type: 'helios-no-such-node', z: 'tab.broadcasts', wires: [] }]));
  const bad = await run(['flows', '--check', '--data', grid.dir, '--port', '0'], { HELIOS_FLOWS_FILE: missing });
  t.is(bad.code, 1, bad.out);
  t.regex(bad.out, /missing types/i);

  // A flow that logs an error as it starts (a function node that throws at once).
  const throws = join(dir, 'throws.json');
  writeFileSync(throws, JSON.stringify([
    ...flows(),
    { id: 'inj1', type: 'inject', z: 'tab.broadcasts', once: true, onceDelay: 0.1, repeat: '', props: [{ p: 'payload' }], payload: '', payloadType: 'date', wires: [['fn1']] },
    { id: 'fn1', type: 'function', z: 'tab.broadcasts', func: 'throw new Error("boom at start")', outputs: 1, wires: [[]] },
  ]));
  const err = await run(['flows', '--check', '--data', grid.dir, '--port', '0'], { HELIOS_FLOWS_FILE: throws });
  t.is(err.code, 1, err.out);
  t.regex(err.out, /\[error\].*boom at start/);
});

test('Node-RED refuses to start with an unset variable; helios flows refuses a directory that is not a grid', async (t) => {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('HELIOS_')) delete env[k];
  const r = spawnSync(process.execPath, [redJs, '--settings', settingsFile], { env: { ...env, HELIOS_GRID: 'g', HELIOS_FLOWS_USER_DIR: tempDir('helios-flows-') }, encoding: 'utf8', timeout: 30_000 });
  t.not(r.status, 0);
  t.regex(r.stdout + r.stderr, /E_FLOWS_CONFIG: HELIOS_MQTT_URL, HELIOS_API_URL, HELIOS_OPERATOR_SECRET, HELIOS_MARKET_PERIOD_MS are not set/);

  const nogrid = await run(['flows', '--data', tempDir('helios-empty-')]);
  t.is(nogrid.code, 1);
  t.regex(nogrid.out, /genesis\.json is missing/);
});
