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
  const maxLength = limits.maxLength ?? DEFAULT_MAX_LENGTH;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (typeof text !== 'string') fail(C.WRONG_TYPE, 'JSON text must be a string');
  if (text.length > maxLength) fail(C.TOO_LARGE, `message is ${text.length} characters; the limit is ${maxLength}`);
  const p = new Parser(text, maxDepth);
  p.ws();
  const v = p.value(0, '');
  p.ws();
  if (p.i < text.length) p.error(`unexpected ${JSON.stringify(text[p.i])} after the JSON value`);
  return v;
}

class Parser {
  i = 0;
  readonly s: string;
  readonly maxDepth: number;

  constructor(s: string, maxDepth: number) {
    this.s = s;
    this.maxDepth = maxDepth;
  }

  error(what: string): never {
    return fail(C.MALFORMED_JSON, `malformed JSON at offset ${this.i}: ${what}`);
  }

  ws(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else return;
    }
  }

  value(depth: number, path: string): JsonValue {
    const c = this.s[this.i];
    switch (c) {
      case '{': return this.object(depth, path);
      case '[': return this.array(depth, path);
      case '"': return this.string(path);
      case 't': return this.literal('true', true);
      case 'f': return this.literal('false', false);
      case 'n': return this.literal('null', null);
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.number(path);
        return this.error(c === undefined ? 'unexpected end of input' : `unexpected ${JSON.stringify(c)}`);
    }
  }

  literal<T extends JsonValue>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    return this.error(`expected ${word}`);
  }

  number(path: string): number {
    const s = this.s;
    const start = this.i;
    if (s[this.i] === '-') this.i++;
    if (s[this.i] === '0') {
      this.i++;
    } else if (s[this.i] >= '1' && s[this.i] <= '9') {
      while (s[this.i] >= '0' && s[this.i] <= '9') this.i++;
    } else {
      this.error('a minus sign must be followed by digits');
    }
    const c = s[this.i];
    if (c === '.' || c === 'e' || c === 'E') {
      fail(C.NOT_INTEGER, `number at ${path || '(root)'} has a fraction or exponent; Helios numbers are integers in base units (µHEC, mWh, ms)`, path);
    }
    if (c >= '0' && c <= '9') this.error('leading zeros are not allowed');
    const text = s.slice(start, this.i);
    const n = Number(text);
    if (!Number.isSafeInteger(n)) {
      fail(C.UNSAFE_INTEGER, `integer ${text} at ${path || '(root)'} is beyond ±(2^53−1) and would lose digits`, path);
    }
    return n === 0 ? 0 : n;
  }

  string(path: string): string {
    const s = this.s;
    this.i++; // opening quote
    let out = '';
    let run = this.i;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(run, this.i);
        this.i++;
        break;
      }
      if (Number.isNaN(c)) this.error('unterminated string');
      if (c < 0x20) this.error('control character in string must be escaped');
      if (c === 0x5c) {
        out += s.slice(run, this.i);
        const e = s[this.i + 1];
        this.i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const h = s.slice(this.i, this.i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) this.error('\\u must be followed by four hex digits');
            out += String.fromCharCode(parseInt(h, 16));
            this.i += 4;
            break;
          }
          default:
            this.i -= 2;
            this.error(`invalid escape \\${e ?? ''}`);
        }
        run = this.i;
        continue;
      }
      this.i++;
    }
    const at = hasLoneSurrogate(out);
    if (at >= 0) fail(C.LONE_SURROGATE, `string at ${path || '(root)'} has a lone surrogate at index ${at}; only valid Unicode is accepted`, path);
    return out;
  }

  array(depth: number, path: string): JsonValue[] {
    if (depth >= this.maxDepth) fail(C.TOO_DEEP, `JSON nests deeper than ${this.maxDepth} levels at ${path || '(root)'}`, path);
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1, `${path}[${out.length}]`));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.error('expected , or ] in array');
      }
    }
  }

  object(depth: number, path: string): JsonObject {
    if (depth >= this.maxDepth) fail(C.TOO_DEEP, `JSON nests deeper than ${this.maxDepth} levels at ${path || '(root)'}`, path);
    this.i++;
    const out: JsonObject = Object.create(null);
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.error('expected a member name in double quotes');
      const key = this.string(path);
      const childPath = path ? `${path}.${key}` : key;
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        fail(C.DUPLICATE_KEY, `member ${JSON.stringify(key)} appears twice in the object at ${path || '(root)'}; the signed value would be ambiguous`, childPath);
      }
      this.ws();
      if (this.s[this.i] !== ':') this.error('expected : after member name');
      this.i++;
      this.ws();
      out[key] = this.value(depth + 1, childPath);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') {
        this.i--;
        this.error('expected , or } in object');
      }
    }
  }
}
