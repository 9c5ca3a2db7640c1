/**
 * Every rejection in Helios carries a stable code (the contract with clients and
 * dashboards, listed in docs/protocol.md) and a message a person can act on.
 */
export class HeliosError extends Error {
  readonly code: string;
  /** Where in a message the problem is, as a JSON-pointer-like path ("body.seq"). */
  readonly path: string | undefined;

  constructor(code: string, message: string, path?: string) {
    super(message);
    this.code = code;
    this.path = path;
  }
}

// On the prototype, not by `this.name = …`: in a Moddable build the built-ins are
// frozen after preload, and assigning a property that is read-only on
// Error.prototype throws in strict code (documentation/xs/preload.md).
Object.defineProperty(HeliosError.prototype, 'name', { value: 'HeliosError', writable: true, configurable: true });

/** Codes raised by protocol/ itself. The gateway adds its own (docs/protocol.md). */
export const ProtocolCodes = {
  MALFORMED_JSON: 'E_MALFORMED_JSON',
  DUPLICATE_KEY: 'E_DUPLICATE_KEY',
  NOT_INTEGER: 'E_NOT_INTEGER',
  UNSAFE_INTEGER: 'E_UNSAFE_INTEGER',
  LONE_SURROGATE: 'E_LONE_SURROGATE',
  TOO_LARGE: 'E_TOO_LARGE',
  TOO_DEEP: 'E_TOO_DEEP',
  UNKNOWN_FIELD: 'E_UNKNOWN_FIELD',
  MISSING_FIELD: 'E_MISSING_FIELD',
  WRONG_TYPE: 'E_WRONG_TYPE',
  OUT_OF_RANGE: 'E_OUT_OF_RANGE',
  TOO_LONG: 'E_TOO_LONG',
  BAD_FORMAT: 'E_BAD_FORMAT',
  UNKNOWN_TYPE: 'E_UNKNOWN_TYPE',
  BAD_SIGNATURE: 'E_BAD_SIGNATURE',
  BAD_KEY: 'E_BAD_KEY',
  BAD_ENTROPY: 'E_BAD_ENTROPY',
} as const;

export function fail(code: string, message: string, path?: string): never {
  throw new HeliosError(code, message, path);
}

export function isHeliosError(e: unknown): e is HeliosError {
  return e instanceof HeliosError ||
    (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' &&
      (e as { name?: unknown }).name === 'HeliosError');
}
