/**
 * Ledger state: a map of entries `key → value` (plain JSON objects, integers only),
 * derived only by applying transactions. Rules read and write through a Draft; a
 * transaction's draft is merged only if the whole transaction succeeds, so a
 * refused transaction changes nothing. Values are frozen: a rule that wants to
 * change an entry writes a new object.
 */
import { StateRootIndex } from './stateRoot.ts';

export interface StateReader {
  get<T>(key: string): T | undefined;
}

export interface StateWriter extends StateReader {
  set(key: string, value: object): void;
  delete(key: string): void;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
}

/** The committed state, with its incrementally maintained root. */
export class State implements StateReader {
  private readonly map = new Map<string, object>();
  private readonly index = new StateRootIndex();

  get<T>(key: string): T | undefined {
    return this.map.get(key) as T | undefined;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  get size(): number {
    return this.map.size;
  }

  /** Apply a set of changes (undefined = delete). */
  apply(changes: ReadonlyMap<string, object | undefined>): void {
    for (const [k, v] of changes) {
      if (v === undefined) this.map.delete(k);
      else this.map.set(k, deepFreeze(v));
      this.index.update(k, v);
    }
  }

  root(): string {
    return this.index.root();
  }

  /** Entries whose key starts with `prefix`, sorted by key. */
  entries<T>(prefix = ''): Array<[string, T]> {
    const out: Array<[string, T]> = [];
    for (const [k, v] of this.map) if (k.startsWith(prefix)) out.push([k, v as T]);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  /** The root this state would have after `changes`, without applying them. */
  rootWith(changes: ReadonlyMap<string, object | undefined>): string {
    return this.index.rootWith(changes);
  }
}

/** Writes layered over a reader; `changes` are what would be applied. */
export class Draft implements StateWriter {
  private readonly writes = new Map<string, object | undefined>();
  private readonly base: StateReader;

  constructor(base: StateReader) {
    this.base = base;
  }

  get<T>(key: string): T | undefined {
    return (this.writes.has(key) ? this.writes.get(key) : this.base.get(key)) as T | undefined;
  }

  set(key: string, value: object): void {
    this.writes.set(key, deepFreeze(value));
  }

  delete(key: string): void {
    this.writes.set(key, undefined);
  }

  get changes(): ReadonlyMap<string, object | undefined> {
    return this.writes;
  }

  /** Copy this draft's writes into `target` (another draft, or a writer). */
  mergeInto(target: StateWriter): void {
    for (const [k, v] of this.writes) {
      if (v === undefined) target.delete(k);
      else target.set(k, v);
    }
  }
}
