/**
 * P-256 base-point tables for signing. noble precomputes multiples of the base
 * point for a 6-bit window by default, lazily, at the first signature: ~1400
 * points, more RAM than a small ESP32 can spare. This module asks for a 4-bit
 * window (520 points; about as fast in XS, see docs/performance.md) and builds
 * the table eagerly, when the module runs. The manifest preloads it, so on a
 * device the table is computed by the build machine and lives in flash, not RAM
 * (documentation/xs/preload.md, "Pre-calculating During Preload").
 */
import { p256 } from '@noble/curves/nist.js';

export const BASE_POINT_WINDOW = 4;

p256.Point.BASE.precompute(BASE_POINT_WINDOW, false);
