/*
 * The firmware's platform modules and protocol/ on the real Moddable runtime (mcsim),
 * one build for three checks. The test picks one by what it puts in mcsim's working
 * directory: vectors.json → cases.js (test/firmware/mcsim-primitives.test.ts: the native
 * hashes and signatures against protocol/'s; mcsim-protocol.test.ts: the meter's
 * messages and topics); nothing → store.js (test/firmware/mcsim-store.test.ts: the
 * Linux-host record store, in ./helios/).
 */
import { File } from "file";

import(File.exists("vectors.json") ? "cases" : "store");
