/**
 * A store that loses power on purpose, for tests: it wraps any PreferenceStore and
 * cuts at a chosen write — the Nth write from now, optionally only among writes to
 * records whose name matches — in one of three ways a real device can fail:
 *
 * - `before`: the write never started (the cut came first);
 * - `erased`: the record is gone and the new value never arrived (Moddable's ESP32
 *   Preference erases a key before it writes it);
 * - `torn`: only the first bytes of the new value arrived (a store that writes in
 *   place: the SDK's lin preferences, a raw flash sector, a file without rename).
 *
 * After the cut every call throws PowerCut, as a dead device does nothing; `reboot()`
 * gives the same contents with power back. Pure TypeScript (no Node built-ins), so
 * the same cuts run inside XS too.
 */
import type { PreferenceStore, PreferenceValue } from '../../core/platform.ts';

export class PowerCut extends Error {
  readonly code = 'E_POWER_CUT';
  constructor(readonly at: string) {
    super(`power cut while writing ${at}`);
    this.name = 'PowerCut';
  }
}

export type CutKind = 'before' | 'erased' | 'torn';

export interface CutPlan {
  /** Cut the Nth matching write from now (1 = the next one). */
  atWrite: number;
  kind: CutKind;
  /** Only writes to records whose key matches count (e.g. /^state/, /^ob/, /^enrol$/). */
  match?: RegExp;
  /** For `torn`: how many bytes of the new value arrive (default: half). */
  tornBytes?: number;
}

export interface CutInfo {
  domain: string;
  key: string;
  kind: CutKind;
  /** Writes done through this store before the cut. */
  writes: number;
}

function prefix(v: PreferenceValue, n: number | undefined): PreferenceValue | undefined {
  if (v instanceof ArrayBuffer) return v.slice(0, n ?? Math.floor(v.byteLength / 2));
  if (typeof v === 'string') return v.slice(0, n ?? Math.floor(v.length / 2));
  return undefined; // an int32 or a boolean is one NVS entry: erased or written, never half
}

export class FaultyStore implements PreferenceStore {
  /** Writes (set and delete) done so far, and to which records (`domain/key`), in order. */
  writes = 0;
  readonly written: string[] = [];
  dead = false;
  cut: CutInfo | undefined;
  /** Called once, when the power goes (before the PowerCut is thrown). */
  onCut: ((info: CutInfo) => void) | undefined;
  private plan: (CutPlan & { left: number }) | undefined;

  constructor(readonly inner: PreferenceStore) {}

  cutAt(plan: CutPlan): this {
    if (!(plan.atWrite >= 1)) throw new RangeError('atWrite counts from 1');
    this.plan = { ...plan, left: plan.atWrite };
    return this;
  }

  /** The flash after the power comes back: same contents, no cut planned. */
  reboot(): FaultyStore {
    return new FaultyStore(this.inner);
  }

  get(domain: string, key: string): PreferenceValue | undefined {
    if (this.dead) throw new PowerCut(`(reading ${domain}/${key} after the cut)`);
    return this.inner.get(domain, key);
  }

  set(domain: string, key: string, value: PreferenceValue): void {
    this.write(domain, key, value);
  }

  delete(domain: string, key: string): void {
    this.write(domain, key, undefined);
  }

  private write(domain: string, key: string, value: PreferenceValue | undefined): void {
    if (this.dead) throw new PowerCut(`${domain}/${key} (after the cut)`);
    const p = this.plan;
    if (p && (!p.match || p.match.test(key)) && --p.left === 0) {
      this.plan = undefined;
      if (p.kind !== 'before') {
        const part = value === undefined || p.kind === 'erased' ? undefined : prefix(value, p.tornBytes);
        if (part === undefined) this.inner.delete(domain, key);
        else this.inner.set(domain, key, part);
      }
      this.dead = true;
      this.cut = { domain, key, kind: p.kind, writes: this.writes };
      this.onCut?.(this.cut);
      throw new PowerCut(`${domain}/${key}`);
    }
    if (value === undefined) this.inner.delete(domain, key);
    else this.inner.set(domain, key, value);
    this.writes++;
    this.written.push(`${domain}/${key}`);
  }
}
