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
import { isHeliosError, MAX_METER_MESSAGE_BYTES, parseTopic, type Clock } from '../../protocol/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { sourceOf } from '../source.ts';
import { mayPublish, maySubscribe, rateExempt, type Role } from './acl.ts';
import { PendingAdmission, type PendingPoolLimits } from './admission.ts';
import type { Login } from './auth.ts';
import { checkSession, type SessionClaim } from './identity.ts';
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
  /** Clients other than pending meters (enrolled meters, households, operator, authorities). */
  maxClients: number;
  /** From a socket's accept to CONNACK — TLS handshake and WebSocket upgrade included (ms). */
  handshakeTimeoutMs: number;
  /** A connected client with MQTT keep-alive 0 is closed after this long without traffic (ms). */
  idleTimeoutMs: number;
  /** The pending meters' own pool (gateway/broker/admission.ts). */
  pending?: Partial<PendingPoolLimits>;
}

/** What the broker tells the login check about a connection. */
export interface LoginContext {
  /** Remote address. */
  source: string;
  /** Admit a pending meter's login into its pool, or throw (called before its signature is checked). */
  admitPending(source: string): void;
}

export interface BrokerHandlers {
  authenticate(clientId: string, username: string | undefined, password: Buffer | undefined, ctx: LoginContext): Promise<Login>;
  /** Persist what a successful login uses up (a login counter); CONNACK waits until it is durable. */
  loggedIn(login: Login): Promise<void>;
  connected(client: Client, role: Role): void;
  disconnected(client: Client, role: Role): void;
  /** An authorised publish: resolve true to pass it on to subscribers, false to drop it quietly. */
  published(client: Client | null, role: Role | undefined, packet: PublishPacket): Promise<boolean>;
  subscribed(client: Client, role: Role, topic: string): void;
}

type HeliosClient = Client & { helios?: Role };
/** The raw socket under a client's stream (TCP, TLS or WebSocket), for its timeouts and its address. */
type RawLink = { raw: import('node:net').Socket; ready: boolean; deadline: NodeJS.Timeout };
type LinkedConn = import('node:stream').Duplex & { heliosLink?: RawLink };

export const DEFAULT_BROKER_LIMITS = { maxPacketBytes: 64 * 1024, ratePerSec: 20, burstSec: 10, maxClients: 20_000, handshakeTimeoutMs: 10_000, idleTimeoutMs: 5 * 60_000 };

export class HeliosBroker {
  readonly aedes: Aedes;
  readonly ports: { tcp?: number; tls?: number; ws?: number } = {};
  private readonly servers: Array<TcpServer | TlsServer | HttpServer> = [];
  private readonly wss: WebSocketServer[] = [];
  private readonly rate: RateLimiter;
  private readonly roles = new Map<string, number>();
  /** Clients past preConnect that are not registered yet (logging in). */
  private readonly admitting = new Set<Client>();
  /** Who holds each client id: the session a takeover is checked against (gateway/broker/identity.ts). */
  private readonly sessions = new Map<string, { client: Client; claim: SessionClaim }>();
  /** Pending meters admitted (logging in past the check, or connected). */
  private pendingCount = 0;
  private readonly pendingAdmission: PendingAdmission;

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
    this.pendingAdmission = new PendingAdmission(o.pending);
  }

  static async start(o: BrokerOptions, h: BrokerHandlers, clock: Clock, metrics: Metrics, log: Logger): Promise<HeliosBroker> {
    const { persistence } = memoryPersistenceWithRetainedTrie();
    const aedes = await Aedes.createBroker({ persistence, drainTimeout: 30_000, concurrency: 1000, maxClientsIdLength: 64, heartbeatInterval: 60_000, connectTimeout: o.handshakeTimeoutMs, queueLimit: 100 });
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
      // Connected pending meters do not: they have their own pool (admission.ts), so a flood of
      // them cannot lock out enrolled meters and households.
      const pendingConnected = (this.roles.get('pendingMeter') ?? 0) + (this.roles.get('restoringMeter') ?? 0);
      if (a.connectedClients - pendingConnected + this.admitting.size >= this.o.maxClients) {
        this.refuse('E_TOO_MANY_CLIENTS', { client: client.id, limit: this.o.maxClients });
        return cb(null, false);
      }
      this.admitting.add(client);
      client.conn.once('close', () => this.admitting.delete(client));
      cb(null, true);
    };
    a.authenticate = (client, username, password, cb) => {
      const source = sourceOfClient(client);
      const refused = (code: string, message: string, returnCode: number) => {
        this.admitting.delete(client);
        this.refuse(code, { client: client.id, username, source, message });
        const err = new Error(message) as AuthenticateError;
        (err as { returnCode: number }).returnCode = returnCode;
        cb(err, false);
      };
      const ctx: LoginContext = { source, admitPending: (src) => this.pendingAdmission.take(src, this.clock.now()) };
      this.h.authenticate(client.id, username, password, ctx).then(
        (login) => {
          // All in the turn the verdict arrives: the identity rule sees every session admitted
          // before this one, and the login counter is reserved before any other login is checked.
          if ((client as { closed?: boolean }).closed) return;
          const held = this.sessions.get(client.id);
          const live = held && held.client !== client && !(held.client as { closed?: boolean }).closed ? held.claim : undefined;
          const no = checkSession(client.id, login.role, login.claim, live);
          if (no) return refused(no.code, no.message, 2); // [MQTT-3.2.2-3] identifier rejected; the live session is untouched
          // A restoring meter's login proves no counter (docs/protocol.md §4): it shares the pending meters' pool and its session expiry.
          if (login.role.kind === 'pendingMeter' || login.role.kind === 'restoringMeter') {
            if (this.pendingCount >= this.pendingAdmission.limits.pendingMax) {
              return refused('E_TOO_MANY_PENDING', `${this.pendingCount} meters are waiting for enrolment, the most this gateway admits at once; try again later`, 3);
            }
            this.pendingCount++;
            client.conn.once('close', () => this.pendingCount--);
            // A pending session expires: the pool turns over, and a meter still waiting reconnects and says Hello again.
            const expire = setTimeout(() => client.close(), this.pendingAdmission.limits.sessionMs);
            expire.unref();
            client.conn.once('close', () => clearTimeout(expire));
          }
          this.sessions.set(client.id, { client, claim: login.claim });
          client.conn.once('close', () => {
            if (this.sessions.get(client.id)?.client === client) this.sessions.delete(client.id);
          });
          (client as HeliosClient).helios = login.role;
          // [docs/protocol.md §3] What the CONNACK tells the client is used up (its login counter)
          // is durable before the CONNACK: a crash after it cannot make the token good again.
          this.h.loggedIn(login).then(
            () => cb(null, true),
            (e: Error) => {
              this.log.error('login counter not stored', { client: client.id, error: e.message });
              refused('E_UNAVAILABLE', 'the gateway could not record the login; try again', 3);
            },
          );
        },
        (e: Error) => {
          const code = isHeliosError(e) ? e.code : 'E_BAD_LOGIN';
          // Locked out or over a rate: "server unavailable" [MQTT-3.2.2-3]; anything else: bad user name or password.
          refused(code, e.message, code === 'E_LOCKED_OUT' || code === 'E_RATE_LIMIT' ? 3 : 4);
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
        // docs/protocol.md §3: a meter topic's messages are at most 2 KiB; a client that sends more is disconnected.
        if (isMeterTopic(packet.topic) && (packet.payload as Buffer).length > MAX_METER_MESSAGE_BYTES) {
          this.refuse('E_PACKET_TOO_LARGE', { client: client.id, topic: packet.topic, bytes: (packet.payload as Buffer).length, limit: MAX_METER_MESSAGE_BYTES });
          return cb(new Error(`a message on ${packet.topic} is at most ${MAX_METER_MESSAGE_BYTES} bytes`));
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
      const link = (client.conn as LinkedConn).heliosLink;
      if (link) {
        // Past the handshake: MQTT keep-alive (×1.5, [MQTT-3.1.2-24]) now watches the client; one that
        // asked for none is closed after idleTimeoutMs of silence instead.
        link.ready = true;
        clearTimeout(link.deadline);
        const keepalive = (client as unknown as { _keepaliveInterval?: number })._keepaliveInterval;
        link.raw.setTimeout(keepalive && keepalive > 0 ? 0 : this.o.idleTimeoutMs);
      }
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

  /**
   * Every accepted socket, on every listener, before anything else: it has
   * handshakeTimeoutMs to reach CONNACK (a TLS handshake, a WebSocket upgrade and
   * the MQTT CONNECT all count), else it is closed and counted.
   */
  private accept = (raw: import('node:net').Socket): RawLink => {
    // A deadline from the accept, not an inactivity timer: a client trickling a byte at a time is cut off too.
    const deadline = setTimeout(() => {
      this.refuse('E_HANDSHAKE_TIMEOUT', { remote: raw.remoteAddress, limitMs: this.o.handshakeTimeoutMs });
      raw.destroy();
    }, this.o.handshakeTimeoutMs);
    const link: RawLink = { raw, ready: false, deadline };
    raw.once('close', () => clearTimeout(deadline));
    raw.on('timeout', () => {
      if (!link.ready) return;
      this.refuse('E_IDLE_TIMEOUT', { remote: raw.remoteAddress, limitMs: this.o.idleTimeoutMs });
      raw.destroy();
    });
    return link;
  };

  private handle = (conn: import('node:stream').Duplex, link: RawLink) => {
    const guarded = guardConnection(conn, this.o.maxPacketBytes, (announced) => {
      this.refuse('E_PACKET_TOO_LARGE', { announced, limit: this.o.maxPacketBytes, remote: link.raw.remoteAddress });
    }) as LinkedConn;
    guarded.heliosLink = link;
    Object.assign(guarded, { remoteAddress: link.raw.remoteAddress });
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
      const s = createTcpServer((c) => this.handle(c, this.accept(c)));
      this.servers.push(s);
      this.ports.tcp = await listen(s, o.port);
    }
    if (o.tlsPort !== null && o.tls) {
      const links = new WeakMap<object, RawLink>();
      const s = createTlsServer({ key: o.tls.key, cert: o.tls.cert, minVersion: 'TLSv1.2', handshakeTimeout: o.handshakeTimeoutMs }, (c) => {
        const link = links.get((c as unknown as { _parent: object })._parent);
        if (link) this.handle(c, link);
        else c.destroy();
      });
      s.on('connection', (raw) => links.set(raw, this.accept(raw)));
      s.on('tlsClientError', (e, c) => this.log.debug('mqtts handshake failed', { remote: c.remoteAddress, error: e.message }));
      this.servers.push(s);
      this.ports.tls = await listen(s, o.tlsPort);
    }
    if (o.wsPort !== null) {
      const http = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with a WebSocket client (subprotocol "mqtt")\n');
      });
      const wss = new WebSocketServer({ server: http, maxPayload: o.maxPacketBytes + 16 });
      const links = new WeakMap<object, RawLink>();
      http.on('connection', (raw) => links.set(raw, this.accept(raw)));
      wss.on('connection', (ws, req) => {
        const link = links.get(req.socket);
        if (link) this.handle(createWebSocketStream(ws), link);
        else ws.terminate();
      });
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

/** The remote address a client connected from (throttling and admission are per address). */
function sourceOfClient(client: Client): string {
  return sourceOf((client.conn as { remoteAddress?: string }).remoteAddress);
}

export function isMeterTopic(topic: string): boolean {
  return parseTopic(topic)?.kind === 'meter';
}
