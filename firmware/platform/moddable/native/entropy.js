/*
 * The platform's random source for key generation and backoff jitter, as an XS
 * host function implemented in C: native/esp32/entropy.c (the ESP32 hardware RNG)
 * or native/lin/entropy.c (getrandom(2)). Returns a new ArrayBuffer of `count` bytes.
 * `radioOff`: true while Wi-Fi is not running (the ESP32 then draws on its ADC noise source).
 */
export default function fillRandom(count, radioOff) @ "xs_helios_fill_random";
