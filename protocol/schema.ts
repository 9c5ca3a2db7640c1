/**
 * A small runtime validator for messages that cross a process boundary. Each
 * schema both checks a value and gives its TypeScript type, so the documented
 * shape, the type and the check cannot drift apart. Objects refuse unknown
 * members: a signed message carries exactly the fields its reader understands.
 */
import { fail, ProtocolCodes as C } from './errors.ts';
import { matches } from './patterns.ts';

export interface Schema<T> {
  /** Human description used in error messages ("integer 0…2147483647"). */
  readonly describe: string;
  parse(v: unknown, path: string): T;
}

export interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> }
>;

const where = (path: string) => path || '(message)';

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function int(min: number, max: number): Schema<number> {
  const describe = `integer ${min}…${max}`;
  return {
    describe,
    parse(v, path) {
      if (typeof v !== 'number') fail(C.WRONG_TYPE, `${where(path)} must be an ${describe}, got ${typeName(v)}`, path);
      if (!Number.isInteger(v)) fail(C.NOT_INTEGER, `${where(path)} must be an integer in base units, got ${v}`, path);
      if (v < min || v > max) fail(C.OUT_OF_RANGE, `${where(path)} is ${v}; it must be between ${min} and ${max}`, path);
      return v;
    },
  };
}

export interface StringRule {
  min?: number;
  max: number;
  pattern?: RegExp;
  /** What the pattern means, for the error message ("32 lowercase hex characters"). */
  format?: string;
  /** Further check after the pattern (e.g. that a key is a curve point). */
  refine?: (s: string, path: string) => void;
}

export function str(rule: StringRule): Schema<string> {
  const min = rule.min ?? 0;
  const describe = rule.format ?? `string of ${min}…${rule.max} characters`;
  return {
    describe,
    parse(v, path) {
      if (typeof v !== 'string') fail(C.WRONG_TYPE, `${where(path)} must be a ${describe}, got ${typeName(v)}`, path);
      if (v.length > rule.max) fail(C.TOO_LONG, `${where(path)} is ${v.length} characters; at most ${rule.max} are allowed`, path);
      if (v.length < min) fail(C.OUT_OF_RANGE, `${where(path)} is ${v.length} characters; at least ${min} are needed`, path);
      if (rule.pattern && !matches(rule.pattern, v)) {
        fail(C.BAD_FORMAT, `${where(path)} must be ${rule.format ?? `a string matching ${rule.pattern}`}, got ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`, path);
      }
      rule.refine?.(v, path);
      return v;
    },
  };
}

export function literal<const T extends string>(value: T): Schema<T> {
  return {
    describe: JSON.stringify(value),
    parse(v, path) {
      if (v !== value) fail(typeof v === 'string' ? C.BAD_FORMAT : C.WRONG_TYPE, `${where(path)} must be ${JSON.stringify(value)}, got ${JSON.stringify(v)}`, path);
      return value;
    },
  };
}

export function oneOf<const T extends readonly string[]>(values: T): Schema<T[number]> {
  const describe = `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return {
    describe,
    parse(v, path) {
      if (typeof v !== 'string') fail(C.WRONG_TYPE, `${where(path)} must be ${describe}, got ${typeName(v)}`, path);
      if (!values.includes(v)) fail(C.BAD_FORMAT, `${where(path)} is ${JSON.stringify(v)}; it must be ${describe}`, path);
      return v as T[number];
    },
  };
}

export function bool(): Schema<boolean> {
  return {
    describe: 'boolean',
    parse(v, path) {
      if (typeof v !== 'boolean') fail(C.WRONG_TYPE, `${where(path)} must be true or false, got ${typeName(v)}`, path);
      return v;
    },
  };
}

export function optional<T>(s: Schema<T>): OptionalSchema<T> {
  return {
    optional: true,
    describe: `${s.describe} (optional)`,
    parse(v, path) {
      return v === undefined ? undefined : s.parse(v, path);
    },
  };
}

export function array<T>(item: Schema<T>, rule: { min?: number; max: number }): Schema<T[]> {
  const min = rule.min ?? 0;
  return {
    describe: `array of ${min}…${rule.max} × ${item.describe}`,
    parse(v, path) {
      if (!Array.isArray(v)) fail(C.WRONG_TYPE, `${where(path)} must be an array, got ${typeName(v)}`, path);
      if (v.length > rule.max) fail(C.TOO_LARGE, `${where(path)} has ${v.length} items; at most ${rule.max} are allowed`, path);
      if (v.length < min) fail(C.OUT_OF_RANGE, `${where(path)} has ${v.length} items; at least ${min} are needed`, path);
      const out: T[] = new Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = item.parse(v[i], `${path}[${i}]`);
      return out;
    },
  };
}

export interface ObjectSchema<S extends Shape> extends Schema<ObjectOf<S>> {
  readonly shape: S;
}

export function object<S extends Shape>(shape: S): ObjectSchema<S> {
  const keys = Object.keys(shape);
  // The members' paths under each parent path seen, so a message does not build them afresh (they are few: '', 'body', …).
  // Made at the first parse: schemas are made when their module loads, the firmware preloads it, and a
  // Map made at preload is in flash, where XS cannot change it.
  let memberPaths: Map<string, string[]> | undefined;
  const pathsUnder = (path: string): string[] => {
    memberPaths ??= new Map();
    let ps = memberPaths.get(path);
    if (!ps) {
      ps = keys.map((k) => (path ? `${path}.${k}` : k));
      if (memberPaths.size >= 64) memberPaths.clear();
      memberPaths.set(path, ps);
    }
    return ps;
  };
  return {
    shape,
    describe: 'object',
    parse(v, path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        fail(C.WRONG_TYPE, `${where(path)} must be an object, got ${typeName(v)}`, path);
      }
      const src = v as Record<string, unknown>;
      for (const k of Object.keys(src)) {
        if (!Object.prototype.hasOwnProperty.call(shape, k)) {
          const p = path ? `${path}.${k}` : k;
          fail(C.UNKNOWN_FIELD, `${where(path)} has an unknown field ${JSON.stringify(k)}; allowed: ${keys.join(', ')}`, p);
        }
      }
      const out: Record<string, unknown> = {};
      const paths = pathsUnder(path);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        const s = shape[k];
        const p = paths[i];
        const has = Object.prototype.hasOwnProperty.call(src, k) && src[k] !== undefined;
        if (!has) {
          if ((s as Partial<OptionalSchema<unknown>>).optional) continue;
          fail(C.MISSING_FIELD, `${where(path)} is missing the field ${JSON.stringify(k)} (${s.describe})`, p);
        }
        out[k] = s.parse(src[k], p);
      }
      return out as ObjectOf<S>;
    },
  };
}

/**
 * A union of object schemas told apart by their `type` member. An unknown type is
 * E_UNKNOWN_TYPE, which names the known ones.
 */
export function tagged<M extends Record<string, Schema<unknown>>>(variants: M, tag = 'type'): Schema<{ [K in keyof M]: Infer<M[K]> }[keyof M]> {
  const names = Object.keys(variants);
  return {
    describe: `one of the message types ${names.join(', ')}`,
    parse(v, path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(C.WRONG_TYPE, `${where(path)} must be an object, got ${typeName(v)}`, path);
      const t = (v as Record<string, unknown>)[tag];
      const p = path ? `${path}.${tag}` : tag;
      if (typeof t !== 'string') fail(C.MISSING_FIELD, `${where(path)} has no ${JSON.stringify(tag)} string naming its message type`, p);
      if (!Object.prototype.hasOwnProperty.call(variants, t)) {
        fail(C.UNKNOWN_TYPE, `${JSON.stringify(t)} is not a known message type; known: ${names.join(', ')}`, p);
      }
      return variants[t].parse(v, path) as { [K in keyof M]: Infer<M[K]> }[keyof M];
    },
  };
}
