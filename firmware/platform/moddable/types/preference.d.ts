/**
 * Moddable `preference` (modules/files/preference). On the ESP32 it is NVS:
 * names ≤ 15 characters, values ≤ 4000 bytes, numbers int32 only, and `set`
 * erases the key before writing it. Throws on a storage failure.
 */
declare module 'preference' {
  const Preference: {
    get(domain: string, key: string): string | number | boolean | ArrayBuffer | undefined;
    set(domain: string, key: string, value: string | number | boolean | ArrayBuffer): void;
    delete(domain: string, key: string): void;
    keys(domain: string): string[];
  };
  export default Preference;
}
