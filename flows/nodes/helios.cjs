/**
 * Helios nodes for Node-RED: the grid's gateway as a config node, and the few nodes
 * the flows are wired from. They wire, schedule and show; every business rule stays
 * in the gateway (docs/dashboards.md).
 *
 *  helios-gateway     config: grid id, broker, HTTP API, the operator credential; one
 *                     MQTT connection (logged in as the operator) shared by the nodes
 *  helios-in          a grid topic (…/market/listing, …/market/clock …) as messages
 *  helios-broadcasts  AcceptOfferBroadcast and CloseBidding on the grid's clock
 *  helios-api         a call to the gateway's HTTP API: public, as the operator, or as
 *                     the household whose browser signed msg.token (answered to the
 *                     asking dashboard socket only)
 */
'use strict';
const mqtt = require('mqtt');
const { MarketClock } = require('./lib/marketClock.cjs');

const GRID_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

module.exports = function (RED) {
  // The browser wallet's module (flows/public/wallet.js), for the Wallet and Household pages.
  RED.httpNode.get('/helios/wallet.js', (_req, res) => {
    res.type('text/javascript').set('cache-control', 'no-cache').sendFile(require('node:path').join(__dirname, '..', 'public', 'wallet.js'));
  });
  // scrypt for the wallet's key files (WebCrypto has none): these @noble/hashes modules only, as they are.
  const nobleDir = require('node:path').dirname(require.resolve('@noble/hashes/scrypt.js'));
  const NOBLE = new Set(['scrypt.js', 'pbkdf2.js', 'hmac.js', 'sha2.js', '_md.js', '_u64.js', 'utils.js']);
  RED.httpNode.get('/helios/noble-hashes/:file', (req, res) => {
    if (!NOBLE.has(req.params.file)) return res.status(404).json({ code: 'E_NOT_FOUND', message: 'not a module the wallet uses' });
    res.type('text/javascript').set('cache-control', 'max-age=86400').sendFile(require('node:path').join(nobleDir, req.params.file));
  });

  function HeliosGateway(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.grid = config.grid;
    node.mqttUrl = config.mqtt;
    node.apiUrl = String(config.api || '').replace(/\/$/, '');
    node.marketPeriodMs = Number(config.marketPeriodMs);
    const secret = node.credentials && node.credentials.secret;
    // A ${VAR} that was not set arrives as its literal text: say so instead of failing to connect.
    const bad = [['grid', node.grid], ['mqtt', node.mqttUrl], ['api', node.apiUrl], ['secret', secret]].filter(([, v]) => !v || /^\$\{.*\}$/.test(v)).map(([k]) => k);
    if (bad.length || !GRID_ID.test(node.grid)) {
      node.error(`E_FLOWS_CONFIG: helios-gateway ${bad.length ? `has no value for ${bad.join(', ')}` : `grid "${node.grid}" is not a grid id`}; start the flows with "helios flows --data DIR"`);
      node.broken = true;
      return;
    }
    node.root = `helios/${node.grid}/`;
    const handlers = new Map();
    node.client = mqtt.connect(node.mqttUrl, {
      username: 'operator', password: secret, clientId: `helios-flows-${process.pid}`, reconnectPeriod: 1000, clean: true,
    });
    node.connected = false;
    node.client.on('connect', () => {
      node.connected = true;
      node.log(`connected to ${node.mqttUrl} as the operator of grid "${node.grid}"`);
      for (const t of handlers.keys()) node.client.subscribe(node.root + t, { qos: 0 });
    });
    node.client.on('close', () => { node.connected = false; });
    node.client.on('error', (e) => node.warn(`MQTT: ${e.message}`));
    node.client.on('message', (topic, payload) => {
      const rel = topic.slice(node.root.length);
      for (const [filter, hs] of handlers) {
        if (!matches(filter, rel)) continue;
        let data;
        try { data = JSON.parse(payload.toString('utf8')); } catch { continue; }
        for (const h of hs) h(rel, data);
      }
    });
    /** Subscribe to a topic under helios/<grid>/ ("market/listing", "meter/+/status"). */
    node.subscribe = (rel, handler) => {
      if (!handlers.has(rel)) {
        handlers.set(rel, new Set());
        if (node.connected) node.client.subscribe(node.root + rel, { qos: 0 });
      }
      handlers.get(rel).add(handler);
      return () => handlers.get(rel)?.delete(handler);
    };
    node.publish = (rel, payload) => node.client.publish(node.root + rel, JSON.stringify(payload), { qos: 0 });
    /** The gateway's HTTP API. auth: undefined (public), 'operator', or a household's Login token. */
    node.api = async (method, path, body, auth) => {
      const headers = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (auth === 'operator') headers.authorization = `Bearer ${secret}`;
      else if (typeof auth === 'string' && auth) headers.authorization = `Helios ${auth}`;
      const res = await fetch(node.apiUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let data;
      if (!/json/.test(res.headers.get('content-type') || '')) data = text; // /metrics is Prometheus text
      else try { data = text ? JSON.parse(text) : null; } catch { data = { code: 'E_HTTP', message: text.slice(0, 200) }; }
      if (!res.ok) {
        const e = new Error((data && data.message) || `HTTP ${res.status}`);
        e.code = (data && data.code) || 'E_HTTP';
        e.status = res.status;
        throw e;
      }
      return data;
    };
    node.on('close', (done) => { node.client.end(true, {}, () => done()); });
  }
  RED.nodes.registerType('helios-gateway', HeliosGateway, { credentials: { secret: { type: 'password' } } });

  function HeliosIn(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const gw = RED.nodes.getNode(config.gateway);
    if (!gw || gw.broken) return node.status({ fill: 'red', shape: 'ring', text: 'no gateway' });
    node.status({ fill: 'grey', shape: 'ring', text: config.topic });
    const off = gw.subscribe(config.topic, (topic, payload) => {
      node.status({ fill: 'green', shape: 'dot', text: config.topic });
      node.send({ topic, payload });
    });
    node.on('close', () => off());
  }
  RED.nodes.registerType('helios-in', HeliosIn);

  /** The market's broadcasts, following the grid's clock (lib/marketClock.cjs). */
  function HeliosBroadcasts(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const gw = RED.nodes.getNode(config.gateway);
    if (!gw || gw.broken) return node.status({ fill: 'red', shape: 'ring', text: 'no gateway' });
    let clock;
    try {
      clock = new MarketClock(gw.marketPeriodMs);
    } catch (e) {
      node.error(`E_FLOWS_CONFIG: ${e.message}`);
      return;
    }
    const offListing = gw.subscribe('market/listing', (_t, l) => clock.listing(l));
    const offHead = gw.subscribe('market/clock', (_t, clk) => {
      const t = clk && clk.t;
      for (const c of clock.tick(t)) {
        gw.publish(`operator/${c.command}`, { listing: c.listing });
        const what = c.command === 'broadcast' ? 'AcceptOfferBroadcast' : 'CloseBidding';
        node.status({ fill: 'green', shape: 'dot', text: `${what} ${c.listing}` });
        node.send({ topic: what, payload: { tx: what, listing: c.listing, gridTime: t } });
      }
    });
    node.on('close', () => { offListing(); offHead(); });
  }
  RED.nodes.registerType('helios-broadcasts', HeliosBroadcasts);

  /**
   * A call to the gateway. The path may hold {placeholders} filled from msg.params;
   * a node with no path takes msg.path (under /api/ only).
   * auth "household": msg.token is a Login token the household's browser signed; the
   * answer keeps msg._client, so the dashboard sends it to the asking socket only.
   */
  function HeliosApi(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const gw = RED.nodes.getNode(config.gateway);
    node.on('input', async (msg, send, done) => {
      if (!gw || gw.broken) return done(new Error('E_FLOWS_CONFIG: helios-api has no working helios-gateway'));
      // A page may choose the path only where the node has none of its own, only under /api/, and never the method.
      const method = config.method || 'GET';
      let path = config.path;
      if (!path) {
        if (typeof msg.path !== 'string' || !/^\/api\/[\w\-/.?=&%]*$/.test(msg.path)) {
          send({ ...msg, payload: { error: { code: 'E_BAD_PATH', message: 'ask for a path under /api/' } } });
          return done();
        }
        path = msg.path;
      }
      path = String(path).replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(String((msg.params || {})[k] ?? '')));
      let auth;
      if (config.auth === 'operator') {
        // From a page (Dashboard marks what a widget sends): only a socket that proved it is the operator's.
        const fromPage = Boolean(msg._client || msg._dashboard);
        if (fromPage && (!msg._client || msg._client.heliosRole !== 'operator')) {
          send({ ...msg, payload: { error: { code: 'E_NOT_AUTHORIZED', message: 'sign in as the operator first' } } });
          return done();
        }
        auth = 'operator';
      } else if (config.auth === 'household') {
        auth = typeof msg.token === 'string' ? msg.token : '';
        if (!msg._client || !msg._client.socketId) return done(new Error('E_NOT_AUTHORIZED: household calls come from a dashboard socket'));
      }
      try {
        const payload = await gw.api(method, path, method === 'GET' ? undefined : msg.payload, auth);
        node.status({ fill: 'green', shape: 'dot', text: `${method} ${path.split('?')[0]}` });
        send({ ...msg, payload, token: undefined });
      } catch (e) {
        node.status({ fill: 'yellow', shape: 'ring', text: e.code || 'error' });
        send({ ...msg, payload: { error: { code: e.code || 'E_UNREACHABLE', message: e.message } }, token: undefined });
      }
      done();
    });
  }
  RED.nodes.registerType('helios-api', HeliosApi);
};

/** MQTT topic filter matching (+ one level, # the rest). */
function matches(filter, topic) {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
module.exports.matches = matches;
