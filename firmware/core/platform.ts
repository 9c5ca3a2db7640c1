/**
 * The small interfaces the meter core needs from a platform. Moddable
 * (firmware/platform/moddable/) and Node (firmware/platform/node/) implement
 * them; tests implement them with fakes. The core imports nothing else but
 * protocol/: no Node, no Moddable module, no global timer, no Math.random, no
 * Date.now — time comes from a Clock, randomness from an EntropySource.
 */
export type { Clock, TimerHandle, EntropySource } from '../../protocol/index.ts';

/** A value the ESP32 Preference store can hold: int32, boolean, string or bytes. */
export type PreferenceValue = string | number | boolean | ArrayBuffer;

/**
 * Key–value storage with the semantics of Moddable's `preference` module on the
 * ESP32 (NVS): domain and key names of at most 15 characters, values of at most
 * 4000 bytes, numbers only as int32. `set` erases the key and then writes it, so a
 * power cut between the two leaves the key missing.
 */
export interface PreferenceStore {
  get(domain: string, key: string): PreferenceValue | undefined;
  set(domain: string, key: string, value: PreferenceValue): void;
  delete(domain: string, key: string): void;
}

/** The household relay or contactor. `closed` = the household is supplied. */
export interface RelayOutput {
  set(closed: boolean): void;
}

/** Cumulative energy counted by a source since it started (this boot), and the power now. */
export interface EnergySample {
  /** mWh imported since the source started; never decreases. */
  importMWh: number;
  /** mWh exported since the source started; never decreases. */
  exportMWh: number;
  /** Instantaneous active power, W: positive importing, negative exporting. */
  powerW: number;
}

/**
 * Where energy comes from: an S0 pulse counter (firmware/core/s0.ts), an
 * energy-measuring IC (HLW8012, ADE7953, PZEM-004T) or a simulated profile. The
 * meter reads it whenever it needs the registers; a source that learns of new
 * energy by itself (a pulse) calls the listener so that credit is charged at once.
 */
export interface EnergySource {
  read(nowMs: number): EnergySample;
  /** Register the meter's listener; a pulse-driven source calls it on every counted pulse. */
  onChange?(listener: () => void): void;
  /**
   * When the source's power will next change by itself (a simulated profile's next
   * step), so the meter can re-plan when credit runs out; undefined if unknown.
   */
  nextChangeAt?(nowMs: number): number | undefined;
}

/** What a meter sends in MQTT CONNECT (docs/protocol.md §3). */
export interface MqttConnectOptions {
  clientId: string;
  username: string;
  /** The signed Login token as JSON text. */
  password: string;
  will: { topic: string; payload: string; retain: boolean };
  /** MQTT keep-alive, ms. */
  keepaliveMs: number;
}

export interface MqttHandlers {
  /** CONNACK accepted: the session may publish and subscribe. */
  onReady(): void;
  onMessage(topic: string, payload: Uint8Array | string): void;
  /** The connection ended or could not be made; called at most once per connection. */
  onClose(reason: string): void;
}

/** One MQTT connection. Moddable's client publishes at QoS 0 only, so this interface has no QoS. */
export interface MqttConnection {
  /** Throws when the connection can no longer send. */
  publish(topic: string, payload: string, retain: boolean): void;
  subscribe(topic: string): void;
  close(): void;
}

export interface MqttTransport {
  /** Start connecting. Handlers fire later, never from inside this call. */
  connect(options: MqttConnectOptions, handlers: MqttHandlers): MqttConnection;
}

/**
 * Signs with the meter's key: ECDSA P-256 over SHA-256 of `message`, returning 64
 * bytes r‖s with s low (docs/protocol.md §1). A platform may supply one to move
 * signing into hardware (ESP32 ECDSA peripheral, ATECC608) or, on Node, onto
 * OpenSSL; without one the core signs in JavaScript (RFC 6979).
 */
export type SignFn = (message: Uint8Array) => Uint8Array;

/** Makes the platform's signer for a key the core loaded or generated. */
export type SignerFactory = (key: { secretKey: Uint8Array; publicKey: string }) => SignFn;
