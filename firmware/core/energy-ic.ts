/**
 * Energy-measuring ICs as a source: HLW8012/BL0937 (pulse-frequency outputs),
 * ADE7953 (SPI/I²C), PZEM-004T (Modbus over UART) — the other common way, besides
 * S0 pulses, that Tasmota and ESPHome meter a household. A driver reads the chip
 * and reports its cumulative counters; this adapter turns them into the meter's
 * EnergySource and copes with what such counters do: a chip that was reset or
 * power-cycled starts again from zero, a 32-bit counter wraps, a bus read fails.
 * None of these may move the meter's registers backwards or make them jump.
 */
import type { EnergySample, EnergySource } from './platform.ts';

/** What a chip driver reports: its own cumulative counters, in mWh, and the power now. */
export interface EnergyIcReading {
  importMWh: number;
  exportMWh: number;
  powerW: number;
}

export interface EnergyIcDriver {
  /** Read the chip; undefined when the read failed (bus error, checksum): nothing is counted then. */
  read(): EnergyIcReading | undefined;
}

export class IcEnergySource implements EnergySource {
  private importMWh = 0;
  private exportMWh = 0;
  private powerW = 0;
  private last: EnergyIcReading | undefined;
  /** Reads that failed, and times the chip's counters went backwards (a reset): diagnostics. */
  failedReads = 0;
  resets = 0;

  constructor(private readonly driver: EnergyIcDriver) {}

  read(): EnergySample {
    const r = this.driver.read();
    if (!r || !Number.isSafeInteger(r.importMWh) || !Number.isSafeInteger(r.exportMWh) || r.importMWh < 0 || r.exportMWh < 0) {
      this.failedReads++;
      return { importMWh: this.importMWh, exportMWh: this.exportMWh, powerW: this.powerW };
    }
    if (this.last) {
      const dImport = r.importMWh - this.last.importMWh;
      const dExport = r.exportMWh - this.last.exportMWh;
      // A counter that went down restarted from zero: what it shows now is what it counted since.
      if (dImport < 0 || dExport < 0) this.resets++;
      this.importMWh += dImport < 0 ? r.importMWh : dImport;
      this.exportMWh += dExport < 0 ? r.exportMWh : dExport;
    }
    // The first read after boot is the baseline: the chip's own total is not the household's register.
    this.last = r;
    this.powerW = Number.isFinite(r.powerW) ? Math.round(r.powerW) : 0;
    return { importMWh: this.importMWh, exportMWh: this.exportMWh, powerW: this.powerW };
  }
}
