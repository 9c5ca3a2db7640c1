/**
 * The meter's storage on the ESP32: NVS through the SDK's `preference` module
 * (../preference.ts), one NVS key per record in the `helios` namespace — the key,
 * the enrolment, each state and wallet slot and each outbox ring entry apart, so a
 * write never touches another record.
 *
 * What NVS gives and what the core adds (docs/installing-a-meter.md, "Storage and
 * flash wear"): NVS appends entries and garbage-collects pages itself (wear
 * levelling across the partition), and a write of one entry is atomic; but
 * Moddable's modPreference.c erases a key before it writes it, so a cut between the
 * two leaves the key missing. The core therefore keeps everything that changes in
 * two alternating slots with a CRC, and treats a missing or damaged record as
 * docs/protocol.md §4 ("Restore") says — never as a fresh meter.
 *
 * Mapped to the module "helios/store" for `-p esp32`.
 */
import type { PreferenceStore } from '../../../core/index.ts';
import { preferenceStore } from '../preference.ts';

export default function createStore(): PreferenceStore {
  return preferenceStore;
}
