/** Globals the XS harness (test/helpers/xs.ts) provides to code it runs. */
declare function report(value: unknown): void;
declare var xsInput: unknown;
/** xsnap's own print, to its stdout. */
declare function print(...args: unknown[]): void;
