/**
 * The host function in native/<platform>/entropy.c: `count` (1…256) random bytes.
 * Pass radioOff = true while Wi-Fi is not started (ESP32: enables the ADC noise source).
 */
declare module 'helios/native/entropy' {
  export default function fillRandom(count: number, radioOff?: boolean): ArrayBuffer;
}
