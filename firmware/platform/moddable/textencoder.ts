/**
 * XS has no global TextEncoder, and @noble/curves/nist encodes strings with it
 * while its module loads (the P-256 FROST suite's context strings). The SDK's
 * `text/encoder` module is the same class; main imports this module before
 * anything that imports noble, so the global exists when noble loads.
 */
import TextEncoder from 'text/encoder';

const g = globalThis as { TextEncoder?: unknown };
if (g.TextEncoder === undefined) g.TextEncoder = TextEncoder;
