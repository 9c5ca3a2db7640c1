// XS has no global TextEncoder; @noble/curves/nist needs one while it loads.
import TextEncoder from "text/encoder";
if (globalThis.TextEncoder === undefined) globalThis.TextEncoder = TextEncoder;
