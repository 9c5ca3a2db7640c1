/**
 * Moddable `mqtt` (modules/network/mqtt): an MQTT 3.1.1 client, QoS 0 only, clean
 * session, no automatic reconnect; it swallows exceptions thrown in its callbacks
 * and cannot tell a retained message from a new one. The SDK ships no typings for it.
 */
declare module 'mqtt' {
  interface MqttWill {
    topic: string;
    message: string | ArrayBuffer;
    retain?: boolean;
    quality?: number;
  }
  interface MqttClientOptions {
    host: string;
    port?: number;
    id: string;
    user?: string;
    password?: string | ArrayBuffer;
    will?: MqttWill;
    /** Keep-alive interval, ms; none if absent. */
    timeout?: number;
    /** Socket constructor: SecureSocket for TLS. */
    Socket?: unknown;
    secure?: Record<string, unknown>;
  }
  export default class Client {
    constructor(options: MqttClientOptions);
    onReady?: () => void;
    onMessage?: (topic: string, data: ArrayBuffer) => void;
    onClose?: () => void;
    /** The client's socket while it has one (`delete`d by close()). */
    ws?: object;
    publish(topic: string, message: string | ArrayBuffer, flags?: { retain?: boolean; quality?: number }): void;
    subscribe(topic: string): void;
    unsubscribe(topic: string): void;
    close(immediate?: boolean): void;
  }
}
