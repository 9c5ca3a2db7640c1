/**
 * Testing text against the patterns a module keeps.
 *
 * The meter's firmware preloads protocol/ and its core: what their modules create
 * while loading is built at link time and lives in flash. XS 8.2.3 cannot run a
 * RegExp made that way: its `fxAllocateRegExpData` (xs/sources/xsre.c) gives such a
 * RegExp match data from `c_malloc` (an `else` is missing), then the garbage collector
 * treats that memory as one of its own chunks, and the machine crashes (SIGSEGV in
 * `fx_RegExp_prototype_exec`) or corrupts its heap. So no module of protocol/ or the
 * core runs a RegExp it made at load time: it keeps the literal (harmless to hold)
 * and tests through here, which compiles the pattern once, at run time, in RAM.
 * On Node and in browsers this costs one Map lookup per test.
 */

let compiled: Map<string, RegExp> | undefined; // made at first use: a Map made while preloading is read-only

function runtime(pattern: RegExp): RegExp {
  // Global and sticky patterns keep state in lastIndex between calls; a shared copy would mix callers up.
  if (pattern.global || pattern.sticky) throw new TypeError(`patterns: ${pattern} keeps lastIndex; use a pattern without g or y`);
  compiled ??= new Map();
  const key = `${pattern.flags}/${pattern.source}`;
  let re = compiled.get(key);
  if (re === undefined) {
    re = new RegExp(pattern.source, pattern.flags);
    compiled.set(key, re);
  }
  return re;
}

/** Whether `text` matches `pattern` (RegExp.prototype.test on a copy made at run time). */
export function matches(pattern: RegExp, text: string): boolean {
  return runtime(pattern).test(text);
}

/** The first match of `pattern` in `text`, or null (RegExp.prototype.exec on a copy made at run time). */
export function firstMatch(pattern: RegExp, text: string): RegExpExecArray | null {
  return runtime(pattern).exec(text);
}
