/**
 * The meter's storage on the ESP32: NVS through the SDK's `preference` module, one
 * NVS key per record in the `helios` namespace — the key, the enrolment, each state
 * and wallet slot and each outbox ring entry apart, so a write never touches
 * another record.
 *
 * What NVS gives and what the core adds (docs/installing-a-meter.md, "Storage and
 * flash wear"): NVS appends entries and garbage-collects pages itself (wear
 * levelling across the partition), and drops an entry that fails its own CRC; but
 * Moddable's modPreference.c erases a key before it writes it, so a cut between the
 * two leaves the key missing. The core therefore keeps everything that changes in
 * two alternating slots with a CRC, and treats a missing or damaged record as
 * docs/protocol.md §4 ("Restore") says — never as a fresh meter.
 *
 * Mapped to the module "helios/store" for `-p esp32`, so no relative import at run
 * time; main wraps it with the core's checkedStore (ESP32 limits, E_STORAGE_FAILED).
 */
import Preference from 'preference';
import type { PreferenceStore } from '../../../core/platform.ts';

export default function createStore(): PreferenceStore {
  return {
    get: (domain, key) => Preference.get(domain, key),
    set: (domain, key, value) => Preference.set(domain, key, value),
    delete: (domain, key) => Preference.delete(domain, key),
  };
}
