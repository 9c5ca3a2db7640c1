/**
 * A home battery run for self-consumption: it charges from PV surplus and
 * discharges to cover the house's own load, never exporting or importing for its
 * own sake. Its state of charge carries from one moment to the next, so it is
 * stepped forward in time (the node meter samples profiles in time order).
 */
export interface BatterySpec {
  capacityWh: number;
  maxPowerW: number;
  /** Round-trip efficiency (default 0.9), applied on charging. */
  efficiency?: number;
}

export class Battery {
  private socWh: number;
  private t: number | undefined;
  private lastW = 0;

  constructor(readonly spec: BatterySpec, initialSoc = 0.5) {
    this.socWh = spec.capacityWh * initialSoc;
  }

  get stateOfChargeWh(): number {
    return this.socWh;
  }

  /**
   * The house's net demand at t without the battery (W, + import, − surplus) in; the
   * net demand with it out. Energy over [previous t, t) uses the previous decision.
   */
  step(t: number, netW: number): number {
    if (this.t !== undefined && t > this.t) {
      const hours = (t - this.t) / 3_600_000;
      const eff = this.spec.efficiency ?? 0.9;
      // lastW > 0: the battery was discharging into the house; < 0: charging.
      this.socWh = Math.min(this.spec.capacityWh, Math.max(0, this.socWh - (this.lastW > 0 ? this.lastW : this.lastW * eff) * hours));
    }
    if (this.t === undefined || t >= this.t) this.t = t;
    let w = 0;
    if (netW > 0 && this.socWh > 1) w = Math.min(netW, this.spec.maxPowerW);
    else if (netW < 0 && this.socWh < this.spec.capacityWh - 1) w = Math.max(netW, -this.spec.maxPowerW);
    this.lastW = w;
    return netW - w;
  }
}
