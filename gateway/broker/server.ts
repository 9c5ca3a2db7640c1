/**
 * The embedded MQTT broker: Aedes on plain TCP (loopback by default), TLS and
 * WebSocket, with Helios's login, access control and limits in Aedes' hooks.
 * What a published message means is the gateway's business (handlers); this file
 * is transport and policy.
 */
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { isHeliosError, parseTopic, type Clock } from '../../protocol/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { mayPublish, maySubscribe, rateExempt, type Role } from './acl.ts';
import type { Login } from './auth.ts';
import { guardConnection, RateLimiter } from './limits.ts';
import { memoryPersistenceWithRetainedTrie } from './retained.ts';

export interface BrokerOptions {
  grid: string;
  host: string;
  /** 0 picks a free port; null disables the listener. */
  port: number | null;
  tlsPort: number | null;
  wsPort: number | null;
  tls?: { key: Buffer; cert: Buffer };
  /** Largest MQTT packet any client may send (bytes). */
  maxPacketBytes: number;
  /** Messages per second per client, sustained over burstSec (operator and authorities exempt). */
  ratePerSec: number;
  burstSec: number;
  maxClients: number;
}

export interface BrokerHandlers {
  authenticate(clientId: string, username: string | undefined, password: Buffer | undefined): Promise<Login>;
  /** Persist what a successful login uses up (a login counter). */
  loggedIn(login: Login): void;
  connected(client: Client, role: Role): void;
  disconnected(client: Client, role: Role): void;
  /** An authorised publish: resolve true to pass it on to subscribers, false to drop it quietly. */
  published(client: Client | null, role: Role | undefined, packet: PublishPacket): Promise<boolean>;
  subscribed(client: Client, role: Role, topic: string): void;
}

type HeliosClient = Client & { helios?: Role };

export const DEFAULT_BROKER_LIMITS = { maxPacketBytes: 64 * 1024, ratePerSec: 20, burstSec: 10, maxClients: 20_000 };

export class HeliosBroker {
  readonly aedes: Aedes;
  readonly ports: { tcp?: number; tls?: number; ws?: number } = {};
  private readonly servers: Array<TcpServer | TlsServer | HttpServer> = [];
  private readonly wss: WebSocketServer[] = [];
  private readonly rate: RateLimiter;
  private readonly roles = new Map<string, number>();
  /** Clients past preConnect that are not registered yet (logging in). */
  private readonly admitting = new Set<Client>();

  private constructor(
    aedes: Aedes,
    private readonly o: BrokerOptions,
    private readonly h: BrokerHandlers,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.aedes = aedes;
    this.rate = new RateLimiter(o.ratePerSec, o.burstSec);
  }

  static async start(o: BrokerOptions, h: BrokerHandlers, clock: Clock, metrics: Metrics, log: Logger): Promise<HeliosBroker> {
    const { persistence } = memoryPersistenceWithRetainedTrie();
    const aedes = await Aedes.createBroker({ persistence, drainTimeout: 30_000, concurrency: 1000, maxClientsIdLength: 64, heartbeatInterval: 60_000, connectTimeout: 10_000, queueLimit: 100 });
    const b = new HeliosBroker(aedes, o, h, clock, metrics, log);
    b.install();
    await b.listen();
    return b;
  }

  private refuse(code: string, fields: Record<string, unknown>): void {
    this.metrics.mqttRefused.inc({ code });
    this.log.warn('mqtt refused', { code, ...fields });
  }

  private install(): void {
    const a = this.aedes;
    a.preConnect = (client, _packet, cb) => {
      // Logins are checked asynchronously, so clients still logging in count against the limit too.
      if (a.connectedClients + this.admitting.size >= this.o.maxClients) {
        this.refuse('E_TOO_MANY_CLIENTS', { client: client.id, limit: this.o.maxClients });
        return cb(null, false);
      }
      this.admitting.add(client);
      client.conn.once('close', () => this.admitting.delete(client));
      cb(null, true);
    };
    a.authenticate = (client, username, password, cb) => {
      this.h.authenticate(client.id, username, password).then(
        (login) => {
          // In the turn the verdict arrives, so a login counter is checked and recorded at once.
          (client as HeliosClient).helios = login.role;
          this.h.loggedIn(login);
          cb(null, true);
        },
        (e: Error) => {
          this.admitting.delete(client);
          const code = isHeliosError(e) ? e.code : 'E_BAD_LOGIN';
          this.refuse(code, { client: client.id, username, message: e.message });
          const err = new Error(e.message) as AuthenticateError;
          (err as { returnCode: number }).returnCode = 4; // bad user name or password
          cb(err, false);
        },
      );
    };
    a.authorizePublish = (client, packet, cb) => {
      const role = (client as HeliosClient | null)?.helios;
      if (client) {
        if (!role || !mayPublish(role, this.o.grid, packet.topic)) {
          this.refuse('E_NOT_AUTHORIZED', { client: client.id, role: role?.kind, action: 'publish', topic: packet.topic });
          return cb(new Error(`not allowed to publish to ${packet.topic}`));
        }
        if (!rateExempt(role) && !this.rate.take(client.id, this.clock.now())) {
          this.refuse('E_RATE_LIMIT', { client: client.id, limit: this.o.ratePerSec });
          return cb(new Error('message rate limit exceeded'));
        }
      }
      this.h.published(client, role, packet).then(
        (forward) => {
          // Dropping a message without disconnecting its sender: deliver it to an internal topic nobody may subscribe to.
          if (!forward) packet.topic = `$SYS/${a.id}/helios/dropped`;
          cb(null);
        },
        (e: Error) => {
          this.log.error('publish handler failed', { topic: packet.topic, error: String(e.stack ?? e) });
          packet.topic = `$SYS/${a.id}/helios/dropped`;
          cb(null);
        },
      );
    };
    a.authorizeSubscribe = (client, sub, cb) => {
      const role = (client as HeliosClient).helios;
      if (!role || !maySubscribe(role, this.o.grid, sub.topic)) {
        this.refuse('E_NOT_AUTHORIZED', { client: client.id, role: role?.kind, action: 'subscribe', topic: sub.topic });
        return cb(null, null); // SUBACK 0x80 for this topic; the client stays connected
      }
      cb(null, sub);
    };
    a.on('subscribe', (subs, client) => {
      const role = (client as HeliosClient).helios;
      if (role) for (const s of subs) this.h.subscribed(client, role, s.topic);
    });
    a.on('clientReady', (client) => {
      this.admitting.delete(client);
      const role = (client as HeliosClient).helios;
      if (!role) return;
      this.roles.set(role.kind, (this.roles.get(role.kind) ?? 0) + 1);
      this.metrics.connectedClients.set({ role: role.kind }, this.roles.get(role.kind)!);
      this.h.connected(client, role);
    });
    a.on('clientDisconnect', (client) => {
      const role = (client as HeliosClient).helios;
      if (!role) return;
      this.rate.forget(client.id);
      this.roles.set(role.kind, Math.max(0, (this.roles.get(role.kind) ?? 1) - 1));
      this.metrics.connectedClients.set({ role: role.kind }, this.roles.get(role.kind)!);
      this.h.disconnected(client, role);
    });
    a.on('clientError', (client, err) => this.log.debug('mqtt client error', { client: client.id, error: err.message }));
    a.on('connectionError', (client, err) => this.log.debug('mqtt connection error', { client: client?.id, error: err.message }));
  }

  private handle = (conn: import('node:stream').Duplex) => {
    const guarded = guardConnection(conn, this.o.maxPacketBytes, (announced) => {
      this.refuse('E_PACKET_TOO_LARGE', { announced, limit: this.o.maxPacketBytes, remote: (conn as { remoteAddress?: string }).remoteAddress });
    });
    this.aedes.handle(guarded);
  };

  private async listen(): Promise<void> {
    const o = this.o;
    const listen = (server: TcpServer | TlsServer | HttpServer, port: number) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, o.host, () => resolve((server.address() as AddressInfo).port));
      });
    if (o.port !== null) {
      const s = createTcpServer((c) => this.handle(c));
      this.servers.push(s);
      this.ports.tcp = await listen(s, o.port);
    }
    if (o.tlsPort !== null && o.tls) {
      const s = createTlsServer({ key: o.tls.key, cert: o.tls.cert, minVersion: 'TLSv1.2' }, (c) => this.handle(c));
      this.servers.push(s);
      this.ports.tls = await listen(s, o.tlsPort);
    }
    if (o.wsPort !== null) {
      const http = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with a WebSocket client (subprotocol "mqtt")\n');
      });
      const wss = new WebSocketServer({ server: http, maxPayload: o.maxPacketBytes + 16 });
      wss.on('connection', (ws) => this.handle(createWebSocketStream(ws)));
      this.servers.push(http);
      this.wss.push(wss);
      this.ports.ws = await listen(http, o.wsPort);
    }
  }

  /** Publish as the gateway (bypasses client ACLs). */
  publish(topic: string, payload: string | Buffer, opts: { retain?: boolean; qos?: 0 | 1 } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.aedes.publish({ cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: opts.qos ?? 0, retain: opts.retain ?? false, dup: false } as PublishPacket, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Send a message straight to one connected client (an Ack, Time or credit token
   * for a meter): no topic matching across every subscription. Falls back to a
   * normal publish when the client is not connected here.
   */
  deliver(clientId: string, topic: string, payload: string | Buffer): void {
    const c = (this.aedes as unknown as { clients: Record<string, Client> }).clients[clientId];
    const buf = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (c && c.connected) {
      c.publish({ cmd: 'publish', topic, payload: buf, qos: 0, retain: false, dup: false } as PublishPacket, () => undefined);
      return;
    }
    this.publish(topic, buf).catch(() => undefined);
  }

  /** Disconnect a client (e.g. a meter that was just revoked). */
  kick(clientId: string): void {
    const c = (this.aedes as unknown as { clients: Record<string, Client> }).clients[clientId];
    c?.close();
  }

  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  async close(): Promise<void> {
    for (const w of this.wss) {
      for (const c of w.clients) c.terminate();
      w.close();
    }
    await new Promise<void>((r) => this.aedes.close(() => r()));
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => { s.close(() => r()); (s as { closeAllConnections?: () => void }).closeAllConnections?.(); })));
  }
}

export function isMeterTopic(topic: string): boolean {
  return parseTopic(topic)?.kind === 'meter';
}
