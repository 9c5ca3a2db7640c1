/**
 * The MQTT session: connect, stay connected, come back after every failure.
 *
 * Moddable's MQTT client never reconnects by itself and swallows exceptions in
 * its callbacks, so the loop lives here. Every failure — refused login, broker
 * down, Wi-Fi gone, CONNACK never arriving — ends in the same place: wait a
 * jittered, exponentially growing delay and try again. The meter never reboots
 * because the broker is down (the reboot loop ESPHome users know), and it keeps
 * metering, persisting and switching its relay meanwhile.
 */
import type { Backoff } from './backoff.ts';
import { codeOf, messageOf, type Logger } from './errors.ts';
import type { Clock, MqttConnectOptions, MqttConnection, MqttTransport, TimerHandle } from './platform.ts';

export type SessionState = 'idle' | 'connecting' | 'online' | 'waiting' | 'stopped';

export interface SessionHooks {
  /** CONNECT options for the next attempt; raises and persists the login counter. Throwing skips the attempt. */
  prepare(): MqttConnectOptions;
  online(connection: MqttConnection): void;
  message(topic: string, payload: Uint8Array | string): void;
  /** Called once when an online connection ends. */
  offline(reason: string): void;
}

export class Session {
  state: SessionState = 'idle';
  /** Connection attempts made, and how many reached CONNACK (diagnostics). */
  attempts = 0;
  connects = 0;
  /** The delay chosen before the current wait, ms (diagnostics and tests). */
  lastDelayMs = 0;
  private generation = 0;
  private connection: MqttConnection | undefined;
  private timer: TimerHandle | undefined;
  private upSince: number | undefined;

  constructor(
    private readonly transport: MqttTransport,
    private readonly clock: Clock,
    private readonly backoff: Backoff,
    private readonly connectTimeoutMs: number,
    private readonly hooks: SessionHooks,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.state !== 'idle') return;
    this.attempt();
  }

  stop(): void {
    this.state = 'stopped';
    this.generation++;
    this.clearTimer();
    const c = this.connection;
    this.connection = undefined;
    if (c) {
      try {
        c.close();
      } catch {
        // already gone
      }
    }
  }

  /** Drop the current connection and connect again at once (after enrolment: the gateway applies the meter's ACL at CONNECT). */
  reconnectNow(): void {
    if (this.state === 'stopped') return;
    this.backoff.reset();
    this.drop('reconnecting on purpose', false);
    this.attempt();
  }

  /** The network came back: if waiting out a backoff delay, try now. */
  nudge(): void {
    if (this.state === 'waiting') this.attempt();
  }

  /** The meter found the connection unusable (a publish threw). */
  fail(reason: string): void {
    if (this.state === 'online' || this.state === 'connecting') this.lost(reason);
  }

  private clearTimer(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private attempt(): void {
    this.clearTimer();
    if (this.state === 'stopped') return;
    const generation = ++this.generation;
    this.attempts++;
    let options: MqttConnectOptions;
    try {
      options = this.hooks.prepare();
    } catch (e) {
      this.log.log('error', `not connecting: ${codeOf(e)} ${messageOf(e)}`);
      this.wait();
      return;
    }
    this.state = 'connecting';
    this.upSince = undefined;
    let connection: MqttConnection | undefined;
    try {
      connection = this.transport.connect(options, {
        onReady: () => {
          if (generation !== this.generation || this.state !== 'connecting' || !connection) return;
          this.clearTimer();
          this.state = 'online';
          this.connects++;
          this.upSince = this.clock.now();
          try {
            this.hooks.online(connection);
          } catch (e) {
            this.lost(`could not start the session: ${messageOf(e)}`);
          }
        },
        onMessage: (topic, payload) => {
          if (generation !== this.generation || this.state !== 'online') return;
          this.hooks.message(topic, payload);
        },
        onClose: (reason) => {
          if (generation !== this.generation) return;
          this.lost(reason);
        },
      });
    } catch (e) {
      this.lost(`connect failed: ${messageOf(e)}`);
      return;
    }
    this.connection = connection;
    this.timer = this.clock.setTimeout(() => {
      if (generation === this.generation && this.state === 'connecting') this.lost(`no CONNACK within ${this.connectTimeoutMs} ms`);
    }, this.connectTimeoutMs);
  }

  private drop(reason: string, report: boolean): void {
    const wasOnline = this.state === 'online';
    this.generation++;
    this.clearTimer();
    const c = this.connection;
    this.connection = undefined;
    if (c) {
      try {
        c.close();
      } catch {
        // already gone
      }
    }
    if (this.upSince !== undefined) this.backoff.connectionEnded(this.clock.now() - this.upSince);
    this.upSince = undefined;
    if (wasOnline) this.hooks.offline(reason);
    if (report) this.log.log(wasOnline ? 'warn' : 'info', `MQTT connection ${wasOnline ? 'lost' : 'failed'}: ${reason}`);
  }

  private lost(reason: string): void {
    this.drop(reason, true);
    this.wait();
  }

  private wait(): void {
    if (this.state === 'stopped') return;
    const delay = this.backoff.next();
    this.lastDelayMs = delay;
    this.state = 'waiting';
    this.timer = this.clock.setTimeout(() => this.attempt(), delay);
  }
}
