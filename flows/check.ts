/**
 * The flows' CI check (`helios flows --check`): the flow file is consistent (no
 * duplicate id, no wire or reference to a node that is not there, every dashboard
 * template's script loads), and a real
 * Node-RED loads it read-only with no missing node type and no error or warning
 * logged while it starts. A flow with a missing type makes Node-RED wait forever,
 * logging at info level only, so that line is a failure too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlowsProcess } from './process.ts';

export const flowFile = fileURLToPath(new URL('helios.json', import.meta.url));

/** Properties that hold the id of another node (config nodes, dashboard groups and pages). */
const REFS = ['gateway', 'group', 'page', 'ui', 'theme'];

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  wires?: string[][];
  links?: string[];
  [k: string]: unknown;
}

/** Problems in a flow file's structure (empty when sound). */
export function lintFlows(flows: FlowNode[]): string[] {
  const problems: string[] = [];
  const ids = new Map<string, FlowNode>();
  for (const n of flows) {
    if (typeof n.id !== 'string' || typeof n.type !== 'string') { problems.push(`a node without id or type: ${JSON.stringify(n).slice(0, 80)}`); continue; }
    if (ids.has(n.id)) problems.push(`duplicate id ${n.id} (${n.type})`);
    ids.set(n.id, n);
  }
  const name = (n: FlowNode) => `${n.type} ${n.id}${n.name ? ` "${String(n.name)}"` : ''}`;
  for (const n of flows) {
    if (n.z && !ids.has(n.z)) problems.push(`${name(n)} is on tab ${n.z}, which does not exist`);
    (n.wires ?? []).forEach((port, i) => port.forEach((to) => { if (!ids.has(to)) problems.push(`${name(n)} output ${i + 1} is wired to ${to}, which does not exist`); }));
    for (const to of n.links ?? []) if (!ids.has(to)) problems.push(`${name(n)} links to ${to}, which does not exist`);
    if (n.type === 'ui-template' && typeof n.format === 'string') problems.push(...templateScript(n.format).map((p) => `${name(n)}: ${p}`));
    for (const r of REFS) {
      const v = n[r];
      if (typeof v === 'string' && v !== '' && !ids.has(v) && !(r === 'theme' && v === 'default')) problems.push(`${name(n)} refers to ${r} ${v}, which does not exist`);
    }
  }
  return problems;
}

/**
 * A ui-template's <script> that Dashboard 2.0 cannot load renders nothing and logs
 * only in the browser: it must begin with `export default` (anything else is run as
 * a plain script) and parse.
 */
function templateScript(format: string): string[] {
  const m = /<script>([\s\S]*?)<\/script>/.exec(format);
  if (!m) return [];
  const code = m[1].trim();
  if (!code.startsWith('export default')) return ['its <script> must begin with "export default {" (Dashboard 2.0 runs anything else as a plain script, which fails)'];
  try {
    // Compiled, never run.
    new Function(`return ${code.slice('export default'.length)}`);
    return [];
  } catch (e) {
    return [`its <script> does not parse: ${(e as Error).message}`];
  }
}

/**
 * Warnings Node-RED always prints for this setup, by design: the credentials file
 * holds ${ENV} placeholders only (nothing to encrypt), and flows live in git, not
 * in a Node-RED project.
 */
const EXPECTED = [/Using unencrypted credentials/, /Projects disabled/];

/** Lines of Node-RED's log that fail the check. */
export function badLine(line: string): boolean {
  if (EXPECTED.some((r) => r.test(line))) return false;
  return /\[(error|warn)\]/.test(line) || /missing (node )?types/i.test(line);
}

export async function checkFlows(env: Record<string, string>, print: (s: string) => void): Promise<boolean> {
  const file = env.HELIOS_FLOWS_FILE || flowFile;
  const flows = JSON.parse(readFileSync(file, 'utf8')) as FlowNode[];
  const problems = lintFlows(flows);
  for (const p of problems) print(`✘ ${p}`);
  const bad: string[] = [];
  const nr = new FlowsProcess({ env: { ...env, HELIOS_FLOWS_READONLY: '1' }, supervise: false, onLine: (l) => { if (badLine(l)) bad.push(l); } });
  let started = false;
  try {
    // A missing type never lets "Started flows" come: give up as soon as Node-RED says it is waiting.
    await Promise.race([
      nr.start().then(() => { started = true; }),
      new Promise<void>((resolve) => { const t = setInterval(() => { if (bad.some((l) => /missing/i.test(l))) { clearInterval(t); resolve(); } }, 100); t.unref(); }),
    ]);
    // Errors that follow the start (a node that cannot reach its gateway) show within a moment.
    if (started) await new Promise((r) => setTimeout(r, 1500));
  } catch (e) {
    bad.push((e as Error).message.split('\n')[0]);
  } finally {
    await nr.stop();
  }
  for (const l of bad) print(`✘ ${l.trim()}`);
  const ok = problems.length === 0 && bad.length === 0 && started;
  print(ok ? `✔ ${flows.length} nodes in ${file === flowFile ? join('flows', 'helios.json') : file} load in Node-RED with no missing type, dangling wire or error` : '✘ the flows check failed');
  return ok;
}
