/**
 * Virtual meters on Node: the real firmware core over MQTT.js, a file or memory
 * Preference store that enforces the ESP32 limits, timers from a protocol Clock
 * (the system clock, a simulator's accelerated one, or a test's ManualClock),
 * and a household simulated by a power profile.
 *
 * The simulator makes thousands of these in one process, so a meter owns no
 * interval of its own: it has one reading timer, a credit timer only while
 * credit is being drawn, and its energy is integrated lazily when read.
 */
import { join } from 'node:path';
import { systemClock, type Clock, type EntropySource } from '../../../protocol/index.ts';
import {
  Meter, parseMeterConfig, type EnergySource, type Logger, type MeterConfigInput, type PreferenceStore,
} from '../../core/index.ts';
import type { MqttTransport, SignerFactory } from '../../core/platform.ts';
import { PacketMqttTransport } from './packetTransport.ts';
import { opensslSigner, opensslVerifier } from './signer.ts';
import { ProfileEnergySource, type PowerProfile } from './energy.ts';
import { NodeMqttTransport, type NodeMqttOptions } from './mqtt.ts';
import { VirtualRelay } from './relay.ts';
import { FilePreferenceStore, MemoryPreferenceStore } from './storage.ts';

export interface NodeMeterOptions {
  /** Grid id (docs/protocol.md §1). */
  grid: string;
  /** The broker, e.g. mqtt://127.0.0.1:1883 (or mqtts:// with `tls`). */
  brokerUrl: string;
  tls?: Omit<NodeMqttOptions, 'url'>;
  /** The meter's own directory: each stored record is a file under <dataDir>/preferences/. Omit for memory only. */
  dataDir?: string;
  /** A store of your own (overrides dataDir). */
  storage?: PreferenceStore;
  /** Default: the system clock. */
  clock?: Clock;
  /** Whether the clock holds true time at boot (default true; false makes the meter wait for Time). */
  clockSet?: boolean;
  /** Default: crypto.getRandomValues (the Node counterpart of the ESP32 hardware RNG). */
  entropy?: EntropySource;
  /** Settings as in manifest.json's config, without the grid. */
  config?: Omit<MeterConfigInput, 'grid'>;
  /** Household power, W (+ import, − export), or a profile of time; default 0. */
  power?: number | PowerProfile;
  /** Profile step, ms (default one minute). */
  powerStepMs?: number;
  /** Any other energy source (overrides power). */
  energy?: EnergySource;
  log?: Logger;
  /** The MQTT transport: 'mqtt.js' (default), 'packet' (lighter, for thousands of meters) or one of your own. */
  transport?: 'mqtt.js' | 'packet' | MqttTransport;
  /** Who signs and verifies: 'javascript' (default, as the device does) or 'openssl' (fast, for simulating many meters). */
  signer?: 'javascript' | 'openssl' | SignerFactory;
}

export interface NodeMeter {
  meter: Meter;
  relay: VirtualRelay;
  /** The simulated household, when `power` drives it. */
  household: ProfileEnergySource | undefined;
  storage: PreferenceStore;
  start(): void;
  stop(): void;
}

const cryptoEntropy: EntropySource = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));

/** Make a complete virtual meter (not started). */
export function createNodeMeter(options: NodeMeterOptions): NodeMeter {
  const clock = options.clock ?? systemClock();
  const storage = options.storage ?? (options.dataDir ? new FilePreferenceStore(join(options.dataDir, 'preferences'), { legacyFile: join(options.dataDir, 'preferences.json') }) : new MemoryPreferenceStore());
  const household = options.energy ? undefined : new ProfileEnergySource({ power: options.power ?? 0, stepMs: options.powerStepMs, startMs: clock.now() });
  const energy = options.energy ?? household!;
  // Opening the relay cuts the simulated household off: it neither imports nor exports.
  const relay = new VirtualRelay((closed) => household?.setSupplied(closed, clock.now()), () => clock.now());
  const meter = new Meter({
    config: parseMeterConfig({ ...(options.config ?? {}), grid: options.grid }),
    storage,
    clock,
    clockSet: options.clockSet ?? true,
    entropy: options.entropy ?? cryptoEntropy,
    transport: typeof options.transport === 'object' ? options.transport
      : options.transport === 'packet' ? new PacketMqttTransport({ url: options.brokerUrl, ...(options.tls?.ca !== undefined ? { ca: options.tls.ca } : {}) })
        : new NodeMqttTransport({ url: options.brokerUrl, ...(options.tls ?? {}) }),
    relay,
    energy,
    log: options.log,
    signer: options.signer === 'openssl' ? opensslSigner : typeof options.signer === 'function' ? options.signer : undefined,
    verifier: options.signer === 'openssl' ? opensslVerifier : undefined,
  });
  return {
    meter,
    relay,
    household,
    storage,
    start: () => meter.start(),
    stop: () => meter.stop(),
  };
}
