/** The part of @agoric/xsnap's API the XS harness uses (the package ships JSDoc types only). */
declare module '@agoric/xsnap' {
  export interface XSnapOptions {
    os: string;
    spawn: typeof import('node:child_process').spawn;
    fs: unknown;
    name?: string;
    stdout?: 'ignore' | 'inherit' | 'pipe';
    stderr?: 'ignore' | 'inherit' | 'pipe';
    meteringLimit?: number;
    handleCommand?: (request: Uint8Array) => Promise<Uint8Array>;
  }
  export interface XSnap {
    evaluate(code: string): Promise<unknown>;
    issueCommand(message: string | Uint8Array): Promise<unknown>;
    close(): Promise<void>;
    terminate(): Promise<void>;
  }
  export function xsnap(options: XSnapOptions): Promise<XSnap>;
}
