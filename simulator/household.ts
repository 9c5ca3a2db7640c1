/**
 * A simulated household: who it is (a prosumer with rooftop PV, or a consumer),
 * what it uses and makes, and how it trades. Its net power at the meter — load
 * minus PV, through the battery if it has one — is what the virtual meter measures.
 */
import type { Role } from '../protocol/index.ts';
import { Battery, type BatterySpec } from './profiles/battery.ts';
import { loadPowerW, type LoadShape } from './profiles/load.ts';
import { pvPowerW, type PvArray, type Site, type Weather } from './profiles/solar.ts';

export type Strategy = 'standing' | 'fixed' | 'forecast';

export interface HouseholdSpec {
  name: string;
  email: string;
  role: Role;
  load: { shape: LoadShape; kWhPerYear: number };
  pv?: PvArray;
  battery?: BatterySpec;
  /** How it trades: standing orders signed once (default), a fixed-price offer or bid each period, or a price that follows the forecast surplus. */
  strategy: Strategy;
  /** Reserve price for selling, or highest bid for buying, µHEC per kWh. */
  priceMicroHecPerKWh: number;
  /** Most energy to offer or bid for per period, mWh. */
  maxPerPeriodMWh: number;
  /** Tokens minted to it at the start, µHEC. */
  initialMicroHec: number;
  seed: number;
}

export class HouseholdModel {
  private readonly battery: Battery | undefined;

  constructor(readonly spec: HouseholdSpec, private readonly site: Site & { utcOffsetHours: number }, private readonly weather: Weather) {
    this.battery = spec.battery ? new Battery(spec.battery) : undefined;
  }

  pvW(t: number): number {
    return this.spec.pv ? pvPowerW(this.site, this.spec.pv, this.weather, this.spec.seed + 11, t) : 0;
  }

  loadW(t: number): number {
    return loadPowerW({ shape: this.spec.load.shape, kWhPerYear: this.spec.load.kWhPerYear, seed: this.spec.seed }, t, this.site.utcOffsetHours);
  }

  /** Net power at the meter, W: + import, − export. Call in time order (the battery remembers). */
  netW(t: number): number {
    const net = this.loadW(t) - this.pvW(t);
    return Math.round(this.battery ? this.battery.step(t, net) : net);
  }

  get batterySocWh(): number | undefined {
    return this.battery?.stateOfChargeWh;
  }
}
