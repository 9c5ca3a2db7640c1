/**
 * Run TypeScript in the real XS engine (Moddable's, via @agoric/xsnap).
 *
 * The entry module is bundled with esbuild for es2020 as an IIFE — the XS inside
 * xsnap (13.x) rejects ES2022 class fields, so the bundle is lowered — and
 * evaluated in a fresh xsnap worker. The code under test reports results with
 * `report(value)` (declared in xs-globals.d.ts); each report travels back to Node
 * as one JSON text through xsnap's command channel. `input` is visible in XS as
 * `globalThis.xsInput`.
 */
import '@endo/init';
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import { xsnap } from '@agoric/xsnap';

export interface XSRun<T> {
  /** Every value the XS code reported, in order. */
  reports: T[];
  /** Size of the evaluated bundle in bytes. */
  bundleBytes: number;
  /**
   * xsnap's meter figures for the worker before the bundle ran and after it:
   * `allocate` is the bytes XS has allocated for its chunk and slot heaps,
   * `currentHeapCount` the slots in use, `compute` the metered work.
   */
  usage?: { before: XSMeterUsage; after: XSMeterUsage; steps: XSMeterUsage[] };
}

export interface XSRunOptions {
  /**
   * Scripts evaluated one after another once the bundle has run (e.g. `gc(); stage2()`),
   * each with its own meter figures in `usage.steps`.
   */
  steps?: string[];
}

export interface XSMeterUsage {
  allocate: number | null;
  currentHeapCount: number | null;
  compute: number | null;
}

function meterUsageOf(result: unknown): XSMeterUsage {
  const m = (result as { meterUsage?: Partial<XSMeterUsage> } | undefined)?.meterUsage ?? {};
  return { allocate: m.allocate ?? null, currentHeapCount: m.currentHeapCount ?? null, compute: m.compute ?? null };
}

const bundles = new Map<string, string>();

export async function bundleForXS(entry: string): Promise<string> {
  const cached = bundles.get(entry);
  if (cached) return cached;
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['import', 'default'],
    write: false,
    logLevel: 'silent',
    // The firmware and protocol must not need Node: a Node import fails the build here.
    external: [],
  });
  const code = result.outputFiles[0].text;
  bundles.set(entry, code);
  return code;
}

/** Bundle `entry` and run it in XS; resolves with everything it reported. */
export async function runInXS<T = unknown>(entry: string, input?: unknown, options: XSRunOptions = {}): Promise<XSRun<T>> {
  const code = await bundleForXS(entry);
  const reports: T[] = [];
  const decoder = new TextDecoder();
  let stderr = '';
  const worker = await xsnap({
    os: os.type(),
    spawn: ((cmd: string, args: string[], opts: object) => {
      const child = spawn(cmd, args, { ...opts });
      child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
      return child;
    }) as unknown as typeof spawn,
    fs: { ...fsp, ...fs } as never,
    name: 'helios-xs-test',
    stdout: 'ignore',
    stderr: 'pipe',
    meteringLimit: 0,
    handleCommand: async (bytes: Uint8Array) => {
      reports.push(JSON.parse(decoder.decode(bytes)) as T);
      return new Uint8Array(0);
    },
  });
  let usage: XSRun<T>['usage'];
  try {
    const before = await worker.evaluate(`
      globalThis.xsInput = ${JSON.stringify(input ?? null)};
      globalThis.report = (v) => { issueCommand(new TextEncoder().encode(JSON.stringify(v)).buffer); };
    `);
    const after = await worker.evaluate(code);
    const steps: XSMeterUsage[] = [];
    for (const step of options.steps ?? []) steps.push(meterUsageOf(await worker.evaluate(step)));
    usage = { before: meterUsageOf(before), after: meterUsageOf(after), steps };
  } catch (e) {
    throw new Error(`XS run of ${entry} failed: ${(e as Error).message}${stderr ? `\nXS stderr:\n${stderr}` : ''}`);
  } finally {
    await worker.close().catch(() => undefined);
  }
  return { reports, bundleBytes: code.length, usage };
}
