/**
 * The core's MqttTransport over Moddable's `mqtt` client (QoS 0, clean session).
 * The client never reconnects by itself and reports every failure — refused
 * CONNACK, socket error, lost keep-alive — through onClose; the core's Session
 * does the retrying.
 *
 * The SDK's Linux socket (modules/network/socket/lin/modSocket.c: socketConnected,
 * socketReadable) touches its JavaScript socket object again after the socket's
 * callback returns. The client closes the socket and drops it (`delete this.ws`) inside
 * that callback when a connection fails (a refused CONNECT write, a read error), so a
 * garbage collection in between frees the object and mcsim crashes (SIGSEGV in
 * socketDownUseCount; docs/performance.md). This adapter therefore holds the socket
 * until a timer after the close, and passes onClose on from that timer, outside the
 * callback.
 */
import Client from 'mqtt';
import SecureSocket from 'securesocket';
import Timer from 'timer';
import type { MqttConnectOptions, MqttConnection, MqttHandlers, MqttTransport } from '../../core/index.ts';

export interface BrokerSettings {
  host: string;
  port: number;
  tls: boolean;
}

export class ModdableMqttTransport implements MqttTransport {
  constructor(private readonly broker: BrokerSettings) {}

  connect(o: MqttConnectOptions, handlers: MqttHandlers): MqttConnection {
    const client = new Client({
      host: this.broker.host,
      port: this.broker.port,
      id: o.clientId,
      user: o.username,
      password: ArrayBuffer.fromString(o.password),
      will: { topic: o.will.topic, message: o.will.payload, retain: o.will.retain },
      timeout: o.keepaliveMs,
      ...(this.broker.tls ? { Socket: SecureSocket, secure: { protocolVersion: 0x303 } } : {}),
    });
    let open = true;
    // Kept reachable until after any socket callback that closes it (see above); never read.
    let socket: object | undefined = client.ws;
    const dropSocketLater = () => Timer.set(() => {
      socket = undefined;
    }, 0);
    client.onReady = () => {
      if (open) handlers.onReady();
    };
    client.onMessage = (topic, data) => {
      if (open) handlers.onMessage(topic, new Uint8Array(data));
    };
    client.onClose = () => {
      if (!open) return;
      open = false;
      Timer.set(() => {
        socket = undefined;
        handlers.onClose('connection closed');
      }, 0);
    };
    return {
      publish(topic, payload, retain) {
        client.publish(topic, payload, retain ? { retain: true } : undefined);
      },
      subscribe(topic) {
        client.subscribe(topic);
      },
      close() {
        open = false;
        client.close();
        dropSocketLater();
      },
    };
  }
}
