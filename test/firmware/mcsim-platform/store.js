/*
 * firmware/platform/moddable/lin/store.ts on the real Moddable runtime (mcsim), run
 * twice in the same directory by test/firmware/mcsim-store.test.ts: the first run
 * writes records, the test damages them the way a cut would, the second run reads
 * them back. Each line it prints is "STORE <name> <JSON>".
 */
function say(name, value) { trace(`STORE ${name} ${JSON.stringify(value)}\n`); }
Promise.all([import("helios/store"), import("firmware/core/index")]).then(([store, core]) => {
  try {
    const s = core.checkedStore(store.default(), "lin");
    const slots = new core.SlotStore(s, "helios", "state");
    const seen = slots.inspect();
    say("state", { payload: seen.payload ? Array.from(seen.payload) : null, corrupt: seen.corrupt });
    if (!seen.payload) {
      s.set("helios", "key", new Uint8Array([1, 2, 3, 4]).buffer);
      s.set("helios", "enrol", "{\"body\":\"é€😀\"}");
      s.set("helios", "n", -123456);
      s.set("helios", "b", true);
      slots.save(new Uint8Array([7, 7, 7]));
      slots.save(new Uint8Array([8, 8, 8]));
      s.set("helios", "gone", 1);
      s.delete("helios", "gone");
    } else {
      const key = s.get("helios", "key");
      say("key", key === undefined ? null : Array.from(new Uint8Array(key)));
      say("enrol", s.get("helios", "enrol") ?? null);
      say("n", s.get("helios", "n") ?? null);
      say("b", s.get("helios", "b") ?? null);
      say("gone", s.get("helios", "gone") ?? null);
      let limit = "accepted";
      try { s.set("helios", "a-key-of-16-char", 1); } catch (e) { limit = e.code ?? `${e.name}: ${e.message}`; }
      say("limit", limit);
    }
    say("done", true);
  } catch (e) {
    say("error", `${e} ${e?.stack ?? ""}`);
  }
}, (e) => say("error", `import failed: ${e}`));
