/**
 * A light MQTT 3.1.1 transport for virtual meters: a raw socket and mqtt-packet,
 * a few hundred bytes per connection, for simulating thousands of meters in one
 * process. Same contract as NodeMqttTransport (and Moddable's client): clean
 * session, QoS 0, no reconnect of its own.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import mqttPacket from 'mqtt-packet';
import type { MqttConnectOptions, MqttConnection, MqttHandlers, MqttTransport } from '../../core/index.ts';

export interface PacketTransportOptions {
  /** mqtt://host:port or mqtts://host:port */
  url: string;
  ca?: string | Buffer;
}

export class PacketMqttTransport implements MqttTransport {
  private readonly host: string;
  private readonly port: number;
  private readonly tls: boolean;

  constructor(private readonly options: PacketTransportOptions) {
    const u = new URL(options.url);
    this.tls = u.protocol === 'mqtts:';
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || (this.tls ? 8883 : 1883));
  }

  connect(o: MqttConnectOptions, handlers: MqttHandlers): MqttConnection {
    const socket = this.tls
      ? tlsConnect({ host: this.host, port: this.port, ca: this.options.ca, servername: this.host })
      : netConnect(this.port, this.host);
    socket.setNoDelay(true);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let closed = false;
    let ready = false;
    let mid = 1;
    let keepalive: NodeJS.Timeout | undefined;
    const close = (reason: string) => {
      if (closed) return;
      closed = true;
      clearInterval(keepalive);
      socket.destroy();
      setImmediate(() => handlers.onClose(reason));
    };
    parser.on('packet', (p) => {
      if (closed) return;
      if (p.cmd === 'connack') {
        if (p.returnCode !== 0) return close(`CONNACK refused (${p.returnCode})`);
        ready = true;
        keepalive = setInterval(() => socket.write(mqttPacket.generate({ cmd: 'pingreq' })), Math.max(1000, o.keepaliveMs / 2));
        keepalive.unref();
        handlers.onReady();
      } else if (p.cmd === 'publish') {
        const payload = p.payload as Buffer;
        handlers.onMessage(p.topic, new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
      }
    });
    parser.on('error', (e) => close(`bad packet from broker: ${e.message}`));
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', (e) => close(e.message));
    socket.on('close', () => close('connection closed'));
    socket.once(this.tls ? 'secureConnect' : 'connect', () => {
      socket.write(mqttPacket.generate({
        cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: o.clientId,
        keepalive: Math.max(1, Math.round(o.keepaliveMs / 1000)), username: o.username, password: Buffer.from(o.password),
        will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 0, retain: o.will.retain },
      }));
    });
    return {
      publish(topic, payload, retain) {
        if (closed || !ready) throw new Error('MQTT connection is not open');
        socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain, dup: false }));
      },
      subscribe(topic) {
        if (closed) throw new Error('MQTT connection is not open');
        socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: mid++, subscriptions: [{ topic, qos: 0 }] }));
      },
      close() {
        if (closed) return;
        closed = true;
        clearInterval(keepalive);
        // Still connecting (the meter gave up waiting for CONNACK): drop the socket now,
        // or it lingers in SYN-SENT for the kernel's two minutes of retries.
        if (!ready) return void socket.destroy();
        socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
        // A broker that never closes its side must not hold the socket open.
        setTimeout(() => socket.destroy(), 2000).unref();
      },
    };
  }
}
