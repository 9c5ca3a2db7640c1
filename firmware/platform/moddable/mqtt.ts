/**
 * The core's MqttTransport over Moddable's `mqtt` client (QoS 0, clean session).
 * The client never reconnects by itself and reports every failure — refused
 * CONNACK, socket error, lost keep-alive — through onClose; the core's Session
 * does the retrying.
 *
 * onClose is passed on from a timer, not from inside the client's callback: the
 * client calls it from the socket's own callback and closes the socket right after,
 * and the SDK's Linux socket (modules/network/socket/lin/modSocket.c, socketConnected)
 * touches the socket object again once that callback returns. If a garbage collection
 * runs in between, that object is gone and mcsim crashes (SIGSEGV in
 * socketDownUseCount, seen with a small slot heap; docs/performance.md). The core's
 * reconnect bookkeeping allocates, so it runs after the callback has returned.
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
    client.onReady = () => {
      if (open) handlers.onReady();
    };
    client.onMessage = (topic, data) => {
      if (open) handlers.onMessage(topic, new Uint8Array(data));
    };
    client.onClose = () => {
      if (!open) return;
      open = false;
      Timer.set(() => handlers.onClose('connection closed'), 0);
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
      },
    };
  }
}
