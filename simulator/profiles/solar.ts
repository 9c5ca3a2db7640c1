/**
 * Rooftop PV from a clear-sky model with cloud variability.
 *
 * Sun position (Cooper's declination, Spencer's equation of time), clear-sky global
 * horizontal irradiance after Haurwitz (1945): GHI = 1098·cos z·e^(−0.057/cos z) W/m²,
 * split into beam and a 10 % diffuse part, transposed onto the panel plane
 * (isotropic sky, ground albedo 0.2), times the array's kWp and a performance ratio.
 * Clouds are one neighbourhood-wide field of smooth value noise (the same clouds
 * over every roof), each roof with a little noise of its own.
 */
import { valueNoise } from '../random.ts';

export interface Site {
  /** Degrees north. */
  latitude: number;
  /** Degrees east. */
  longitude: number;
}

export interface PvArray {
  kWp: number;
  /** Panel tilt from horizontal, degrees. */
  tiltDeg: number;
  /** Panel azimuth, degrees from north (180 = facing south). */
  azimuthDeg: number;
  /** Performance ratio: inverter, wiring, soiling, temperature (default 0.8). */
  performanceRatio?: number;
}

export interface Weather {
  /** 0 = always clear … 1 = heavily overcast on average. */
  cloudiness: number;
  seed: number;
}

const RAD = Math.PI / 180;

function dayOfYear(t: number): number {
  const d = new Date(t);
  return Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 0)) / 86_400_000);
}

/** Solar zenith and azimuth (degrees; azimuth from north, clockwise) at time t. */
export function sunPosition(site: Site, t: number): { zenithDeg: number; azimuthDeg: number } {
  const n = dayOfYear(t);
  const decl = 23.45 * Math.sin(RAD * (360 / 365) * (284 + n));
  const B = RAD * (360 / 364) * (n - 81);
  const eotMin = 9.87 * Math.sin(2 * B) - 7.53 * Math.cos(B) - 1.5 * Math.sin(B);
  const d = new Date(t);
  const utcHours = d.getUTCHours() + d.getUTCMinutes() / 60 + d.getUTCSeconds() / 3600;
  const solarTime = utcHours + site.longitude / 15 + eotMin / 60;
  const hourAngle = 15 * (solarTime - 12);
  const phi = RAD * site.latitude;
  const delta = RAD * decl;
  const omega = RAD * hourAngle;
  const cosZ = Math.sin(phi) * Math.sin(delta) + Math.cos(phi) * Math.cos(delta) * Math.cos(omega);
  const zenith = Math.acos(Math.max(-1, Math.min(1, cosZ)));
  const sinZ = Math.sin(zenith);
  let az = sinZ < 1e-9 ? 180 : Math.acos(Math.max(-1, Math.min(1, (Math.sin(delta) - Math.cos(zenith) * Math.sin(phi)) / (sinZ * Math.cos(phi))))) / RAD;
  if (hourAngle > 0) az = 360 - az;
  return { zenithDeg: zenith / RAD, azimuthDeg: az };
}

/** Clear-sky irradiance on the panel plane, W/m². */
export function clearSkyPlaneIrradiance(site: Site, a: PvArray, t: number): number {
  const { zenithDeg, azimuthDeg } = sunPosition(site, t);
  const cosZ = Math.cos(RAD * zenithDeg);
  if (cosZ <= 0.01) return 0;
  const ghi = 1098 * cosZ * Math.exp(-0.057 / cosZ);
  const dhi = 0.1 * ghi;
  const dni = (ghi - dhi) / cosZ;
  const beta = RAD * a.tiltDeg;
  const cosAoi = cosZ * Math.cos(beta) + Math.sin(RAD * zenithDeg) * Math.sin(beta) * Math.cos(RAD * (azimuthDeg - a.azimuthDeg));
  return Math.max(0, dni * Math.max(0, cosAoi) + dhi * (1 + Math.cos(beta)) / 2 + ghi * 0.2 * (1 - Math.cos(beta)) / 2);
}

/** Fraction of clear-sky light that gets through the clouds at t (shared by the whole neighbourhood). */
export function clearness(w: Weather, t: number): number {
  // Weather fronts over hours, passing clouds over minutes.
  const slow = valueNoise(w.seed, t, 3 * 3_600_000);
  const fast = valueNoise(w.seed + 1, t, 7 * 60_000);
  const cover = Math.min(1, Math.max(0, w.cloudiness * (0.6 * slow + 0.4 * fast) * 1.6));
  return 1 - 0.75 * cover;
}

/** AC power of one array at time t, W (≥ 0). */
export function pvPowerW(site: Site, a: PvArray, w: Weather, roofSeed: number, t: number): number {
  const poa = clearSkyPlaneIrradiance(site, a, t);
  if (poa === 0) return 0;
  const own = 0.95 + 0.1 * valueNoise(roofSeed, t, 5 * 60_000);
  return (a.kWp * 1000 * poa / 1000) * (a.performanceRatio ?? 0.8) * clearness(w, t) * own;
}
