/**
 * Household consumption from typical daily shapes. Each shape gives the share of
 * the day's energy in each hour (a family home peaks at breakfast and in the
 * evening; a household out at work all day is quieter at midday; a retired one is
 * flatter); the day's energy comes from the yearly consumption; smooth noise and the
 * odd kettle or washing machine make every home and every day its own.
 */
import { hash01, valueNoise } from '../random.ts';

export const LOAD_SHAPES = {
  family: [2.6, 2.3, 2.2, 2.2, 2.3, 2.9, 4.6, 6.2, 5.1, 4.0, 3.6, 3.6, 3.8, 3.6, 3.4, 3.6, 4.4, 6.0, 7.6, 7.9, 7.1, 5.9, 4.4, 3.2],
  working: [2.8, 2.5, 2.4, 2.4, 2.5, 3.2, 5.2, 6.3, 3.6, 2.8, 2.6, 2.6, 2.7, 2.6, 2.6, 2.8, 3.6, 6.1, 8.3, 8.6, 7.7, 6.3, 4.6, 3.3],
  retired: [2.9, 2.6, 2.5, 2.5, 2.6, 3.0, 3.8, 4.8, 5.2, 5.0, 4.8, 4.9, 5.1, 4.7, 4.3, 4.2, 4.5, 5.3, 6.1, 6.0, 5.3, 4.5, 3.7, 3.2],
} as const;

export type LoadShape = keyof typeof LOAD_SHAPES;

export interface Load {
  shape: LoadShape;
  kWhPerYear: number;
  seed: number;
}

function shareAt(shape: readonly number[], hour: number): number {
  const total = shape.reduce((a, b) => a + b, 0);
  const i = Math.floor(hour) % 24;
  const f = hour - Math.floor(hour);
  return (shape[i] * (1 - f) + shape[(i + 1) % 24] * f) / total;
}

/** Consumption at time t, W (≥ 0). `utcOffsetHours` puts the shape on local time. */
export function loadPowerW(l: Load, t: number, utcOffsetHours: number): number {
  const local = t + utcOffsetHours * 3_600_000;
  const hour = (((local / 3_600_000) % 24) + 24) % 24;
  const avgW = (l.kWhPerYear * 1000) / 8760;
  const base = avgW * 24 * shareAt(LOAD_SHAPES[l.shape], hour);
  const noise = 0.8 + 0.4 * valueNoise(l.seed, t, 10 * 60_000);
  // An appliance (kettle, washing machine, oven) in about one ten-minute slot in twelve, more at mealtimes.
  const slot = Math.floor(t / 600_000);
  const busy = hour >= 6 && hour < 23 ? 1 / 12 : 1 / 60;
  const appliance = hash01(l.seed + 7, slot) < busy ? 600 + 1800 * hash01(l.seed + 9, slot) : 0;
  return Math.max(0, base * noise + appliance);
}
