/**
 * JSON the way Helios signs and hashes it.
 *
 * `canonicalize` is the JSON Canonicalization Scheme (RFC 8785) restricted to the
 * values Helios uses: objects, arrays, strings, safe integers, booleans and null.
 * Within that subset JCS is: no whitespace, object members sorted by the UTF-16
 * code units of their names (§3.2.3), strings escaped as ECMAScript's
 * JSON.stringify does (§3.2.2.2), integers in plain decimal (§3.2.2.3).
 *
 * `parseJson` is a strict RFC 8259 parser for messages that cross a process
 * boundary: it refuses what JSON.parse silently accepts (duplicate names — the last
 * one would win — fractions and exponents, integers beyond 2^53 that would lose
 * digits, lone surrogates) so that what was signed is exactly what is read.
 */
import { fail, ProtocolCodes as C } from './errors.ts';
import { utf8Encode } from './bytes.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject { [key: string]: JsonValue }

export interface ParseLimits {
  /** Longest accepted text in UTF-16 code units (≈ bytes for ASCII). */
  maxLength?: number;
  /** Deepest accepted nesting of arrays and objects. */
  maxDepth?: number;
}

const DEFAULT_MAX_LENGTH = 1 << 20;
const DEFAULT_MAX_DEPTH = 16;

function hasLoneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) { i++; continue; }
      }
      return i;
    }
  }
  return -1;
}

/** RFC 8785 canonical text of a value in the Helios subset; throws a HeliosError for anything else. */
export function canonicalize(value: unknown): string {
  return write(value, '', 0);
}

/** UTF-8 bytes of the canonical text: what Helios hashes and signs. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8Encode(canonicalize(value));
}

function write(v: unknown, path: string, depth: number): string {
  if (depth > 64) fail(C.TOO_DEEP, `value nests deeper than 64 levels at ${path || '(root)'}`, path);
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) fail(C.NOT_INTEGER, `${String(v)} at ${path || '(root)'} is not a number JSON can carry; use an integer in base units`, path);
      if (!Number.isInteger(v)) fail(C.NOT_INTEGER, `${v} at ${path || '(root)'} is not an integer; amounts are integers in base units (µHEC, mWh)`, path);
      if (!Number.isSafeInteger(v)) fail(C.UNSAFE_INTEGER, `${v} at ${path || '(root)'} is beyond ±(2^53−1) and cannot be represented exactly`, path);
      return v === 0 ? '0' : String(v);
    case 'string': {
      const at = hasLoneSurrogate(v);
      if (at >= 0) fail(C.LONE_SURROGATE, `string at ${path || '(root)'} has a lone surrogate at index ${at}`, path);
      return JSON.stringify(v);
    }
    case 'object': {
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) {
          if (i) s += ',';
          s += write(v[i], `${path}[${i}]`, depth + 1);
        }
        return s + ']';
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        fail(C.WRONG_TYPE, `value at ${path || '(root)'} is a ${(v as object).constructor?.name ?? 'non-plain object'}, not a plain object`, path);
      }
      const keys = Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
      // Array.prototype.sort compares UTF-16 code units, exactly as RFC 8785 §3.2.3 asks.
      keys.sort();
      let s = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        if (hasLoneSurrogate(k) >= 0) fail(C.LONE_SURROGATE, `member name at ${path || '(root)'} has a lone surrogate`, path);
        if (i) s += ',';
        s += JSON.stringify(k) + ':' + write((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k, depth + 1);
      }
      return s + '}';
    }
    default:
      return fail(C.WRONG_TYPE, `a ${typeof v} at ${path || '(root)'} cannot be encoded as JSON`, path);
  }
}

/** Strict JSON parse (see the module comment). Objects come back with a null prototype. */
export function parseJson(text: string, limits: ParseLimits = {}): JsonValue {
  return parseJsonText(text, limits).value;
}

/**
 * Strict JSON parse that also tells whether `text` is already the RFC 8785
 * canonical text of its value (no whitespace, members in order, only the escapes
 * JSON.stringify makes, no -0). A receiver can then hash or verify the text it was
 * sent instead of writing it out again.
 */
export function parseJsonText(text: string, limits: ParseLimits = {}): { value: JsonValue; canonical: boolean } {
  const maxLength = limits.maxLength ?? DEFAULT_MAX_LENGTH;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (typeof text !== 'string') fail(C.WRONG_TYPE, 'JSON text must be a string');
  if (text.length > maxLength) fail(C.TOO_LARGE, `message is ${text.length} characters; the limit is ${maxLength}`);
  const p = new Parser(text, maxDepth);
  p.ws();
  const value = p.value(0);
  p.ws();
  if (p.i < text.length) p.error(`unexpected ${JSON.stringify(text[p.i])} after the JSON value`);
  return { value, canonical: p.canonical };
}

/** Escapes JSON.stringify writes as two characters, by the escaped character. */
const SHORT_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class Parser {
  i = 0;
  /** Still the canonical text of what has been read so far. */
  canonical = true;
  readonly s: string;
  readonly maxDepth: number;
  /**
   * Member names and array indices from the root to the value being read. Paths
   * are only needed for error messages, so they are joined only then.
   */
  private readonly trail: Array<string | number> = [];

  constructor(s: string, maxDepth: number) {
    this.s = s;
    this.maxDepth = maxDepth;
  }

  path(): string {
    let p = '';
    for (const k of this.trail) p = typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${k}` : k;
    return p;
  }

  error(what: string): never {
    return fail(C.MALFORMED_JSON, `malformed JSON at offset ${this.i}: ${what}`);
  }

  ws(): void {
    const s = this.s;
    const from = this.i;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
    if (this.i !== from) this.canonical = false;
  }

  value(depth: number): JsonValue {
    const c = this.s.charCodeAt(this.i);
    switch (c) {
      case 0x7b: return this.object(depth);
      case 0x5b: return this.array(depth);
      case 0x22: return this.string();
      case 0x74: return this.literal('true', true);
      case 0x66: return this.literal('false', false);
      case 0x6e: return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.error(Number.isNaN(c) ? 'unexpected end of input' : `unexpected ${JSON.stringify(this.s[this.i])}`);
    }
  }

  literal<T extends JsonValue>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    return this.error(`expected ${word}`);
  }

  number(): number {
    const s = this.s;
    const start = this.i;
    if (s.charCodeAt(this.i) === 0x2d) this.i++;
    const first = s.charCodeAt(this.i);
    if (first === 0x30) {
      this.i++;
    } else if (first >= 0x31 && first <= 0x39) {
      let d = s.charCodeAt(++this.i);
      while (d >= 0x30 && d <= 0x39) d = s.charCodeAt(++this.i);
    } else {
      this.error('a minus sign must be followed by digits');
    }
    const c = s.charCodeAt(this.i);
    if (c === 0x2e || c === 0x65 || c === 0x45) {
      const path = this.path();
      fail(C.NOT_INTEGER, `number at ${path || '(root)'} has a fraction or exponent; Helios numbers are integers in base units (µHEC, mWh, ms)`, path);
    }
    if (c >= 0x30 && c <= 0x39) this.error('leading zeros are not allowed');
    const text = s.slice(start, this.i);
    const n = Number(text);
    if (!Number.isSafeInteger(n)) {
      const path = this.path();
      fail(C.UNSAFE_INTEGER, `integer ${text} at ${path || '(root)'} is beyond ±(2^53−1) and would lose digits`, path);
    }
    if (n === 0) {
      if (text !== '0') this.canonical = false; // -0
      return 0;
    }
    return n;
  }

  string(): string {
    const s = this.s;
    this.i++; // opening quote
    let out = '';
    let run = this.i;
    let surrogates = false;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(run, this.i);
        this.i++;
        break;
      }
      if (Number.isNaN(c)) this.error('unterminated string');
      if (c < 0x20) this.error('control character in string must be escaped');
      if (c >= 0xd800 && c <= 0xdfff) surrogates = true;
      if (c === 0x5c) {
        out += s.slice(run, this.i);
        const e = s[this.i + 1];
        this.i += 2;
        const short = e === undefined ? undefined : SHORT_ESCAPES[e];
        if (short !== undefined) {
          out += short;
        } else if (e === '/') {
          out += '/';
          this.canonical = false; // JSON.stringify leaves / alone
        } else if (e === 'u') {
          const h = s.slice(this.i, this.i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) this.error('\\u must be followed by four hex digits');
          const code = parseInt(h, 16);
          out += String.fromCharCode(code);
          if (code >= 0xd800 && code <= 0xdfff) surrogates = true;
          // JSON.stringify writes \u only for control characters without a short form (and lone surrogates, refused below), in lowercase.
          if (code >= 0x20 || code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d || h !== h.toLowerCase()) this.canonical = false;
          this.i += 4;
        } else {
          this.i -= 2;
          this.error(`invalid escape \\${e ?? ''}`);
        }
        run = this.i;
        continue;
      }
      this.i++;
    }
    if (surrogates) {
      const at = hasLoneSurrogate(out);
      if (at >= 0) {
        const path = this.path();
        fail(C.LONE_SURROGATE, `string at ${path || '(root)'} has a lone surrogate at index ${at}; only valid Unicode is accepted`, path);
      }
    }
    return out;
  }

  array(depth: number): JsonValue[] {
    if (depth >= this.maxDepth) {
      const path = this.path();
      fail(C.TOO_DEEP, `JSON nests deeper than ${this.maxDepth} levels at ${path || '(root)'}`, path);
    }
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return out;
    }
    const trail = this.trail;
    for (;;) {
      this.ws();
      trail.push(out.length);
      out.push(this.value(depth + 1));
      trail.pop();
      this.ws();
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.i--;
        this.error('expected , or ] in array');
      }
    }
  }

  object(depth: number): JsonObject {
    if (depth >= this.maxDepth) {
      const path = this.path();
      fail(C.TOO_DEEP, `JSON nests deeper than ${this.maxDepth} levels at ${path || '(root)'}`, path);
    }
    this.i++;
    const out: JsonObject = Object.create(null);
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return out;
    }
    const trail = this.trail;
    let previous: string | undefined;
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x22) this.error('expected a member name in double quotes');
      const key = this.string();
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        const path = this.path();
        trail.push(key);
        fail(C.DUPLICATE_KEY, `member ${JSON.stringify(key)} appears twice in the object at ${path || '(root)'}; the signed value would be ambiguous`, this.path());
      }
      // RFC 8785 §3.2.3: members in the order of their names' UTF-16 code units, which is how < compares strings.
      if (previous !== undefined && !(previous < key)) this.canonical = false;
      previous = key;
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x3a) this.error('expected : after member name');
      this.i++;
      this.ws();
      trail.push(key);
      out[key] = this.value(depth + 1);
      trail.pop();
      this.ws();
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) {
        this.i--;
        this.error('expected , or } in object');
      }
    }
  }
}
