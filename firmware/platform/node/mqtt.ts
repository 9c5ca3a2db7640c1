/**
 * The meter's MQTT transport on Node: MQTT.js, configured to behave like the
 * Moddable client the firmware runs on a device — MQTT 3.1.1, clean session,
 * QoS 0, no automatic reconnect (the core's Session decides when to retry), no
 * offline queue. Talks to any broker that follows docs/protocol.md.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttConnectOptions, MqttConnection, MqttHandlers, MqttTransport } from '../../core/index.ts';

export interface NodeMqttOptions {
  /** mqtt://host:port or mqtts://host:port */
  url: string;
  /** CA certificate(s) for mqtts:// (PEM). */
  ca?: string | Buffer;
  /** Accept a broker certificate that does not verify (development only). */
  rejectUnauthorized?: boolean;
}

export class NodeMqttTransport implements MqttTransport {
  constructor(private readonly options: NodeMqttOptions) {}

  connect(o: MqttConnectOptions, handlers: MqttHandlers): MqttConnection {
    const options: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      protocolVersion: 4,
      clean: true,
      keepalive: Math.max(1, Math.round(o.keepaliveMs / 1000)),
      reconnectPeriod: 0,
      queueQoSZero: false,
      will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 0, retain: o.will.retain },
    };
    if (this.options.ca !== undefined) options.ca = this.options.ca;
    if (this.options.rejectUnauthorized !== undefined) options.rejectUnauthorized = this.options.rejectUnauthorized;
    const client: MqttClient = connect(this.options.url, options);
    let closed = false;
    let lastError = '';
    const close = (reason: string) => {
      if (closed) return;
      closed = true;
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true);
      handlers.onClose(reason);
    };
    client.on('connect', () => {
      if (!closed) handlers.onReady();
    });
    client.on('message', (topic, payload) => {
      if (!closed) handlers.onMessage(topic, new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
    });
    client.on('error', (e) => {
      lastError = e.message;
    });
    client.on('close', () => close(lastError || 'connection closed'));
    client.on('offline', () => close(lastError || 'offline'));
    return {
      publish(topic, payload, retain) {
        if (closed || !client.connected) throw new Error('MQTT connection is not open');
        client.publish(topic, payload, { qos: 0, retain });
      },
      subscribe(topic) {
        if (closed) throw new Error('MQTT connection is not open');
        client.subscribe(topic, { qos: 0 });
      },
      close() {
        if (closed) return;
        closed = true;
        client.removeAllListeners();
        client.on('error', () => {});
        client.end(false);
      },
    };
  }
}
