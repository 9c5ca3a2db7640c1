/**
 * Tools for test/security/: third-party MQTT clients (mosquitto's command-line
 * clients, Debian package mosquitto-clients), raw sockets, hand-made Login tokens,
 * and reading the gateway's /metrics as an operator would.
 */
import { spawn } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { canonicalize, signBody, type KeyPair } from '../../protocol/index.ts';

export interface ToolRun {
  code: number | null;
  out: string;
}

/** Run mosquitto_pub / mosquitto_sub with arguments; resolves when it exits (killed after `ms`). */
export function mosquitto(tool: 'mosquitto_pub' | 'mosquitto_sub', args: string[], ms = 15_000): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${tool} could not run (install the Debian package mosquitto-clients): ${e.message}`));
    });
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** A signed Login token (docs/protocol.md §3) with whatever fields an attacker likes. */
export function loginToken(key: KeyPair, fields: { grid: string; client: string; id?: string; ctr?: number; iat?: number; exp?: number; publicKey?: string }): string {
  return canonicalize(signBody({ type: 'Login', id: key.keyId, ...fields }, key.secretKey));
}

/** A metric's value from GET /metrics (0 when absent). */
export async function metric(httpUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(httpUrl + '/metrics')).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if ((m[2] ?? '') === want) return Number(m[3]);
  }
  return 0;
}

/** Open a raw TCP socket; resolves once connected. */
export function rawSocket(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, host, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when the socket is closed (by either side). */
export function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.once('close', () => resolve());
    s.on('error', () => undefined);
  });
}

export async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const start = Date.now();
  while (!(await pred())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A bare MQTT 3.1.1 CONNECT on a raw socket (mqtt-packet), optionally from another
 * loopback address (127.0.0.2, …) to stand for another source. Resolves with the
 * CONNACK return code, or 'closed' if the gateway closed the socket first.
 */
export function rawLogin(port: number, o: { clientId: string; username?: string; password?: string; keepalive?: number; localAddress?: string }): Promise<{ code: number | 'closed'; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = netConnect({ port, host: '127.0.0.1', ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') resolve({ code: p.returnCode ?? 0, socket });
    });
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ code: 'closed', socket }));
    socket.on('connect', () => {
      socket.write(mqttPacket.generate({
        cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: o.keepalive ?? 60, clientId: o.clientId,
        ...(o.username !== undefined ? { username: o.username } : {}),
        ...(o.password !== undefined ? { password: Buffer.from(o.password) } : {}),
      }));
    });
  });
}
