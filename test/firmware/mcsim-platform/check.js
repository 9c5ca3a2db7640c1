/*
 * The firmware's platform modules on the real Moddable runtime (mcsim), one build for
 * two checks. The test picks one by what it puts in mcsim's working directory:
 * vectors.json → primitives.js (test/firmware/mcsim-primitives.test.ts: the native
 * hashes and signatures against protocol/'s); nothing → store.js
 * (test/firmware/mcsim-store.test.ts: the Linux-host record store, in ./helios/).
 */
import { File } from "file";

import(File.exists("vectors.json") ? "primitives" : "store");
