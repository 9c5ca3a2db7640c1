/**
 * The core's MqttTransport over Moddable's `mqtt` client (QoS 0, clean session).
 * The client never reconnects by itself and reports every failure — refused
 * CONNACK, socket error, lost keep-alive — through onClose; the core's Session
 * does the retrying.
 */
import Client from 'mqtt';
import SecureSocket from 'securesocket';
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
      handlers.onClose('connection closed');
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
