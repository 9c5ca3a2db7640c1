/**
 * P-256 base-point tables for signing. noble precomputes multiples of the base
 * point for a 6-bit window by default, lazily, at the first signature: ~1400
 * points, more RAM than a small ESP32 can spare. This module asks for a 4-bit
 * window (520 points; about as fast in XS, see docs/performance.md) and builds
 * the table eagerly, when the module runs. It is meant to be preloaded, so the
 * table is computed by the build machine and lives in flash, but XS 8.2.3 cannot
 * compare preloaded BigInts with run-time ones (bench/xs-bigint-rom), so for now
 * nothing that imports noble is preloaded and the table is in RAM
 * (docs/performance.md, "Firmware on XS").
 */
import { p256 } from '@noble/curves/nist.js';

export const BASE_POINT_WINDOW = 4;

p256.Point.BASE.precompute(BASE_POINT_WINDOW, false);
