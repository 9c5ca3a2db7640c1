/**
 * A bare MQTT 3.1.1 client on a raw socket (mqtt-packet), for load generation: a
 * few hundred bytes of state per connection, so one process can hold 10,000.
 */
import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

export interface RawClient {
  socket: Socket;
  publish(topic: string, payload: Buffer | string): void;
  subscribe(topics: string[]): void;
  close(): void;
}

export function rawConnect(
  port: number,
  opts: { clientId: string; username?: string; password?: string | Buffer },
  onMessage: (topic: string, payload: Buffer) => void,
): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let mid = 1;
    const client: RawClient = {
      socket,
      publish(topic, payload) {
        socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }));
      },
      subscribe(topics) {
        socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: mid++, subscriptions: topics.map((t) => ({ topic: t, qos: 0 })) }));
      },
      close() {
        socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
      },
    };
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') {
        if (p.returnCode === 0) resolve(client);
        else reject(new Error(`CONNACK ${p.returnCode}`));
      } else if (p.cmd === 'publish') {
        onMessage(p.topic, p.payload as Buffer);
      }
    });
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(mqttPacket.generate({
        cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 600, clientId: opts.clientId,
        ...(opts.username !== undefined ? { username: opts.username } : {}),
        ...(opts.password !== undefined ? { password: Buffer.from(opts.password) } : {}),
      }));
    });
  });
}
