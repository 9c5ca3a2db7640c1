// noble and protocol/ use TextEncoder and TextDecoder, which XS has only as SDK modules.
import TextEncoder from "text/encoder";
import TextDecoder from "text/decoder";
globalThis.TextEncoder = TextEncoder;
globalThis.TextDecoder = TextDecoder;
