/**
 * The core's PreferenceStore over Moddable's `preference` module. The limits are
 * checked here too: the Linux build's JSON-file preferences accept values an
 * ESP32 would refuse, and a meter should fail the same way on both.
 */
import Preference from 'preference';
import { fail } from '../../../protocol/index.ts';
import { MeterCodes, checkPreference, type PreferenceStore, type PreferenceValue } from '../../core/index.ts';

function failed(what: string, domain: string, key: string, e: unknown): never {
  return fail(MeterCodes.STORAGE_FAILED, `preference ${what} ${domain}/${key} failed: ${e instanceof Error ? e.message : String(e)}`);
}

export const preferenceStore: PreferenceStore = {
  get(domain: string, key: string): PreferenceValue | undefined {
    checkPreference(domain, key);
    try {
      return Preference.get(domain, key);
    } catch (e) {
      return failed('read', domain, key, e);
    }
  },
  set(domain: string, key: string, value: PreferenceValue): void {
    checkPreference(domain, key, value);
    try {
      Preference.set(domain, key, value);
    } catch (e) {
      failed('write', domain, key, e);
    }
  },
  delete(domain: string, key: string): void {
    checkPreference(domain, key);
    try {
      Preference.delete(domain, key);
    } catch (e) {
      failed('delete', domain, key, e);
    }
  },
};
