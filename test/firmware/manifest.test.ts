/**
 * manifest.json checked without the Moddable SDK: its modules are expanded with
 * mcconfig's rules (tools/mcmanifest.js: wildcards, `~` exclusions, per-platform
 * entries), the TypeScript modules are compiled the way mcconfig compiles them (one
 * tsconfig, a `paths` entry per module, the manifest's "typescript" options), and
 * every import in the emitted JavaScript must resolve,
 * by the XS module rules (xs/platforms/mc/xsHosts.c: ".js" stripped, relative
 * specifiers joined to the importing module's name), to a module the build contains.
 */
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseInstallerSettings } from '../../firmware/platform/moddable/settings.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as {
  creation: { main: string };
  config: Record<string, unknown>;
  modules: Record<string, string | string[]>;
  preload: string[];
  typescript: { tsconfig: { compilerOptions: Record<string, unknown> } };
  platforms: Record<string, { modules?: Record<string, string | string[]>; include?: string[] }>;
};

/** The SDK's crypt modules (modules/crypt/tls.json) the native primitives use. */
const CRYPT = ['crypt', 'ec', 'ecp', 'mont', 'modular', 'hmac'];
/** Modules the SDK provides through the manifests this one includes. */
const SDK_MODULES: Record<string, string[]> = {
  esp32: ['timer', 'preference', 'mqtt', 'securesocket', 'wifi', 'net', 'sntp', 'mc/config', 'embedded:io/digital', ...CRYPT],
  lin: ['timer', 'preference', 'file', 'mqtt', 'securesocket', 'net', 'mc/config', ...CRYPT],
};

/**
 * The SDK's declarations of its modules and of XS's globals, as mcconfig passes them
 * (manifest_typings.json, manifest_base.json): the firmware declares only what the
 * SDK does not. Without MODDABLE the modules still compile and their imports are
 * checked, but not their types (scripts/typecheck-moddable.js says the same).
 */
const sdk = process.env.MODDABLE;
function sdkTypings(): { paths: Record<string, string[]>; types: string[] } | undefined {
  if (!sdk) return undefined;
  const typings = join(sdk, 'typings');
  const sdkPaths = (JSON.parse(readFileSync(join(typings, 'tsconfig.es2024.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } }).compilerOptions.paths;
  const paths: Record<string, string[]> = {};
  for (const [spec, targets] of Object.entries(sdkPaths)) paths[spec] = targets.map((x) => join(typings, x));
  return { paths, types: [join(sdk, 'xs/includes/xs'), join(typings, 'global')] };
}

interface ModuleFile {
  name: string;
  source: string;
  kind: 'ts' | 'dts' | 'js' | 'c';
}

function kindOf(file: string): ModuleFile['kind'] | undefined {
  if (file.endsWith('.d.ts')) return 'dts';
  if (file.endsWith('.ts')) return 'ts';
  if (file.endsWith('.js')) return 'js';
  if (file.endsWith('.c')) return 'c';
  return undefined;
}

function stem(file: string): string {
  return file.replace(/\.d\.ts$|\.ts$|\.js$|\.c$/, '');
}

/**
 * The files a manifest "modules" object selects for one platform, as mcconfig's ModulesRule
 * would: a source file goes to the first entry that names it, and `~` entries (taken first)
 * name files that go nowhere — which is how manifest.json swaps protocol/primitives.ts for
 * the firmware's native one.
 */
function expand(platform: string): ModuleFile[] {
  const entries: Array<[string, string]> = [];
  const add = (m: Record<string, string | string[]> | undefined) => {
    for (const [target, src] of Object.entries(m ?? {})) for (const s of Array.isArray(src) ? src : [src]) entries.push([target, s]);
  };
  add(manifest.modules);
  add(manifest.platforms[platform]?.modules);
  /** The module files a source pattern matches, with the module name each would get under `target`. */
  const matching = (target: string, src: string): ModuleFile[] => {
    const abs = join(root, src.replace(/\*$/, ''));
    if (src.endsWith('*')) {
      const base = target.replace(/\*$/, '');
      return readdirSync(abs).filter((f) => kindOf(f) && !statSync(join(abs, f)).isDirectory())
        .map((f) => ({ name: base + stem(f), source: join(abs, f), kind: kindOf(f)! }));
    }
    const dir = dirname(abs);
    const want = abs.slice(dir.length + 1);
    const found: ModuleFile[] = [];
    for (const f of readdirSync(dir)) {
      const k = kindOf(f);
      // A named file matches by its name without extension (so nist.d.ts is not "nist").
      if (!k || stem(f) !== want || (k === 'dts' && !target.endsWith('*'))) continue;
      if (k === 'dts' && f !== `${want}.d.ts`) continue;
      // "dir/*": "./path/name" names the module dir/name; "name": "./path/file" names it name.
      found.push({ name: target.endsWith('*') ? target.slice(0, -1) + want : target, source: join(dir, f), kind: k });
    }
    if (!found.length && target !== '~') throw new Error(`manifest names ${src} but no such module file exists`);
    return found;
  };
  const taken = new Set<string>();
  for (const [target, src] of entries) {
    if (target === '~' && !src.startsWith('$(')) for (const f of matching(target, src)) taken.add(f.source);
  }
  const out: ModuleFile[] = [];
  for (const [target, src] of entries) {
    if (target === '~' || src.startsWith('$(')) continue;
    for (const f of matching(target, src)) {
      if (taken.has(f.source)) continue;
      taken.add(f.source);
      out.push(f);
    }
  }
  return out;
}

const IMPORTS = /(?:^|[\s;}])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;

/** XS module resolution (xsHosts.c fxFindModule): strip .js/.mjs, resolve ./ and ../ against the importer's name. */
function xsResolve(importer: string, spec: string): string {
  const s = spec.replace(/\.m?js$/, '');
  if (!s.startsWith('./') && !s.startsWith('../')) return s;
  const parts = importer.split('/');
  parts.pop();
  for (const seg of s.split('/')) {
    if (seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

for (const platform of ['esp32', 'lin']) {
  test(`manifest (${platform}): mcconfig-style TypeScript compile succeeds and every import resolves to a module in the build`, (t) => {
    const files = expand(platform);
    const modules = new Set([...files.filter((f) => f.kind === 'ts' || f.kind === 'js').map((f) => f.name), ...SDK_MODULES[platform]]);
    t.true(modules.has(manifest.creation.main), `creation.main ${manifest.creation.main} is a module`);
    t.true(files.some((f) => f.kind === 'c' && f.source.endsWith(`native/${platform}/entropy.c`)), 'the native entropy function is built');
    // Hashes and signatures run on the SDK's native arithmetic: no @noble (its tables would hold ~10,000 slots of RAM).
    const primitives = files.filter((f) => f.name === 'protocol/primitives');
    t.deepEqual(primitives.map((f) => relative(root, f.source)), ['firmware/platform/moddable/crypto/primitives.ts'], 'protocol/primitives is the native one, once');
    t.deepEqual(files.filter((f) => f.source.includes('node_modules')).map((f) => f.name), [], 'no npm package in the firmware');
    for (const m of manifest.preload) t.true(modules.has(m), `preloaded ${m} is a module of the build`);

    // The tsconfig mcconfig writes (tools/mcmanifest.js TSConfigFile), with SDK 8's target and module.
    const typings = sdkTypings();
    const paths: Record<string, string[]> = { ...typings?.paths };
    for (const f of files) if (f.kind === 'ts' || f.kind === 'dts') paths[f.name] = [f.source.replace(/\.d\.ts$|\.ts$/, '')];
    const out = mkdtempSync(join(tmpdir(), `helios-mcconfig-${platform}-`));
    try {
      const options = ts.convertCompilerOptionsFromJson({
        baseUrl: root,
        forceConsistentCasingInFileNames: true,
        module: 'preserve',
        target: 'es2025',
        lib: ['es2025'],
        outDir: out,
        rootDir: root,
        sourceMap: true,
        paths,
        ...manifest.typescript.tsconfig.compilerOptions,
        types: typings?.types ?? [],
      }, root);
      t.deepEqual(options.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')), []);
      const program = ts.createProgram(files.filter((f) => f.kind === 'ts').map((f) => f.source), options.options);
      const emitted = program.emit();
      const diagnostics = ts.getPreEmitDiagnostics(program).concat(emitted.diagnostics)
        .map((d) => `${d.file ? relative(root, d.file.fileName) : ''} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      if (typings) t.deepEqual(diagnostics, [], 'tsc compiles the firmware as mcconfig would');
      else t.log('MODDABLE is not set: the firmware\'s types were not checked against the SDK\'s declarations');

      const unresolved: string[] = [];
      const check = (name: string, source: string) => {
        const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, ''); // examples in comments are not imports
        for (const m of code.matchAll(IMPORTS)) {
          const spec = m[1] ?? m[2];
          const target = xsResolve(name, spec);
          if (!modules.has(target)) unresolved.push(`${name} imports ${spec} → ${target}`);
        }
      };
      for (const f of files) {
        if (f.kind === 'ts') check(f.name, readFileSync(join(out, relative(root, f.source)).replace(/\.ts$/, '.js'), 'utf8'));
        if (f.kind === 'js') check(f.name, readFileSync(f.source, 'utf8'));
      }
      t.deepEqual(unresolved, []);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}

test('manifest preload: protocol/, the core and the native primitives are preloaded (in flash, not RAM), and the check app preloads the same', (t) => {
  for (const m of ['protocol/primitives', 'ec', 'ecp', 'mont', 'modular']) t.true(manifest.preload.includes(m), m);
  // Every module of protocol/ and the core in the build: mcconfig's preload wildcards match only .js, so
  // each TypeScript module is named, and a new one must be added to the list (docs/performance.md).
  const shared = expand('lin').filter((f) => f.kind === 'ts' && (f.name.startsWith('protocol/') || f.name.startsWith('firmware/core/'))).map((f) => f.name);
  t.true(shared.length > 30, `${shared.length} modules of protocol/ and the core`);
  t.deepEqual(shared.filter((m) => !manifest.preload.includes(m)), [], 'modules of protocol/ and the core not preloaded');
  // Not the platform's own modules: they open files, sockets and pins as they load.
  t.false(manifest.preload.some((m) => m.startsWith('firmware/platform/')));
  // The app that checks the platform modules on XS preloads what the firmware preloads, so it runs as the firmware does.
  const checkApp = JSON.parse(readFileSync(join(root, 'test/firmware/mcsim-platform/manifest.json'), 'utf8')) as { preload: string[] };
  t.deepEqual(manifest.preload.filter((m) => !checkApp.preload.includes(m)), [], 'test/firmware/mcsim-platform preloads the same');
});

test('manifest config: every installer setting is read by the firmware, and the defaults parse once a grid is given', (t) => {
  const settings = parseInstallerSettings({ ...manifest.config, grid: 'greenfield' });
  t.is(settings.meter.grid, 'greenfield');
  t.is(settings.meter.pulsesPerKWh, 1000);
  t.is(settings.meter.readingPeriodMs, 60_000);
  t.is(settings.meter.persistEveryMs, 5 * 60_000);
  t.is(settings.meter.relayPowerOn, 'open');
  t.deepEqual(settings.broker, { host: 'helios-gateway.local', port: 1883, tls: false });
  t.deepEqual(settings.s0, { importPin: 4, exportPin: undefined, activeLevel: 0 });
  t.deepEqual(settings.relay, { pin: 26, activeLevel: 1 });
  t.is(settings.wifi, undefined, 'Wi-Fi credentials come from the mcconfig command line, never the manifest');
  // Without a grid the meter refuses to start and says how to set it.
  const e = t.throws(() => parseInstallerSettings(manifest.config)) as Error & { code: string };
  t.is(e.code, 'E_BAD_CONFIG');
  t.regex(e.message, /grid=/);
  // Every key is one the firmware reads: a typo in the manifest would otherwise be silently ignored.
  const src = readFileSync(join(root, 'firmware/platform/moddable/settings.ts'), 'utf8');
  for (const key of Object.keys(manifest.config)) t.regex(src, new RegExp(`\\bc\\.${key}\\b`), `setting ${key} is read`);
});

test('manifest config: values from the mcconfig command line arrive as text and are taken as such', (t) => {
  const s = parseInstallerSettings({
    ...manifest.config, grid: 'greenfield', brokerPort: '8883', brokerTls: 'true', relayActiveLevel: '0', s0ExportPin: '5', ssid: 'home', password: 'secret',
  });
  t.deepEqual(s.broker, { host: 'helios-gateway.local', port: 8883, tls: true });
  t.is(s.relay.activeLevel, 0);
  t.is(s.s0.exportPin, 5);
  t.deepEqual(s.wifi, { ssid: 'home', password: 'secret' });
  const e = t.throws(() => parseInstallerSettings({ ...manifest.config, grid: 'greenfield', relayPin: 'GPIO26' })) as Error & { code: string };
  t.is(e.code, 'E_BAD_CONFIG');
  t.regex(e.message, /relayPin/);
});
