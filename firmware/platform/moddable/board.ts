/**
 * What the firmware needs from a board: the relay output, the S0 inputs, the
 * network and a random source. esp32/board.ts drives real pins and Wi-Fi;
 * lin/board.ts simulates them on the Moddable Linux host. The manifest maps the
 * module "helios/board" to the one for the platform being built.
 * (Types only: imported with `import type`, so nothing of it exists at run time.)
 */
import type { EntropySource, RelayOutput } from '../../core/index.ts';
import type { InstallerSettings } from './settings.ts';

export interface NetworkEvents {
  /** The network has an address: a good moment to connect without waiting out the backoff. */
  up(): void;
  down(): void;
  /** SNTP answered: wall time, ms since the epoch. */
  time(ms: number): void;
}

export interface Board {
  /** Configure the relay output, driving it to `closed` from its first instant (ECMA-419 initialValue). */
  relay(closed: boolean): RelayOutput;
  /** Watch the S0 inputs; report every edge with its line level and the time in ms on the meter's clock (Date.now()). */
  watchS0(onEdge: (channel: 'import' | 'export', level: number, tMs: number) => void): void;
  /** Bring the network up and keep it up; learn the time. */
  network(events: NetworkEvents): void;
  entropy: EntropySource;
  /** Whether Date.now() holds true time at boot. */
  clockSet(): boolean;
}

export type BoardFactory = (settings: InstallerSettings) => Board;
