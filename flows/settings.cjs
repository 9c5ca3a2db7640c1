/**
 * Node-RED settings for the Helios flows. Started by `helios flows --data DIR`,
 * which derives every HELIOS_* variable below from the grid's data directory, or by
 * hand: `node node_modules/node-red/red.js --settings flows/settings.cjs` with them
 * set. The flows (helios.json) live in git beside this file; the user directory
 * (HELIOS_FLOWS_USER_DIR) does not: it holds the credentials file made from
 * helios_cred.template.json, and Node-RED's own state.
 *
 * A `.cjs` file because the repository's package is "type": "module".
 */
'use strict';
const { join } = require('node:path');
const { timingSafeEqual, createHash } = require('node:crypto');

// An unset variable would reach the flows as the literal text "${HELIOS_GRID}" and show
// only as an info-level "connection failed": refuse to start instead.
const REQUIRED = ['HELIOS_GRID', 'HELIOS_MQTT_URL', 'HELIOS_API_URL', 'HELIOS_OPERATOR_SECRET', 'HELIOS_MARKET_PERIOD_MS', 'HELIOS_FLOWS_USER_DIR'];
const missing = REQUIRED.filter((k) => !process.env[k]);
if (missing.length) {
  throw new Error(`E_FLOWS_CONFIG: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set; start Node-RED with "helios flows --data DIR", which sets them from the grid's data directory`);
}

const env = process.env;
const operatorSecret = env.HELIOS_OPERATOR_SECRET;
const digest = (s) => createHash('sha256').update(String(s)).digest();
/** Constant-time comparison with the operator secret. */
const isOperator = (s) => typeof s === 'string' && timingSafeEqual(digest(s), digest(operatorSecret));

/**
 * Dashboard 2.0 serves /dashboard/socket.io to anyone (httpNodeAuth does not cover
 * it): flows/nodes/lib/session.cjs decides who each socket is when it connects, and
 * the helios nodes decide per message who may receive it. See docs/dashboards.md.
 */
const session = require('./nodes/lib/session.cjs');
function ioMiddleware(socket, next) {
  try {
    socket.request.helios = session.authenticateSocket(socket, { isOperator });
    session.track(socket, socket.request.helios);
    next();
  } catch (e) {
    next(e);
  }
}

const editor = env.HELIOS_FLOWS_EDITOR === '1';

module.exports = {
  uiHost: env.HELIOS_FLOWS_HOST || '127.0.0.1',
  uiPort: Number(env.HELIOS_FLOWS_PORT || 1880),
  userDir: env.HELIOS_FLOWS_USER_DIR,
  // HELIOS_FLOWS_FILE: another flow file (the check's own tests load broken ones).
  flowFile: env.HELIOS_FLOWS_FILE || join(__dirname, 'helios.json'),
  flowFilePretty: true,
  // The credentials file holds ${ENV} placeholders only (helios_cred.template.json): nothing to encrypt.
  credentialSecret: false,
  nodesDir: [join(__dirname, 'nodes')],
  // The CI check and `helios flows --check` load the flows without writing anything.
  readOnly: env.HELIOS_FLOWS_READONLY === '1',
  // The editor and admin API (GET/POST /flows) are off unless asked for with --editor; then they need the operator secret.
  httpAdminRoot: editor ? '/admin' : false,
  adminAuth: editor ? {
    type: 'credentials',
    users: (username) => Promise.resolve(username === 'operator' ? { username: 'operator', permissions: '*' } : null),
    authenticate: (username, password) => Promise.resolve(username === 'operator' && isOperator(password) ? { username: 'operator', permissions: '*' } : null),
  } : undefined,
  disableEditor: !editor,
  httpNodeRoot: '/',
  functionExternalModules: false,
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  diagnostics: { enabled: false },
  runtimeState: { enabled: false },
  telemetry: { enabled: false },
  logging: { console: { level: env.HELIOS_FLOWS_LOG_LEVEL || 'info', metrics: false, audit: false } },
  editorTheme: { tours: false },
  dashboard: { ioMiddleware },
  // global `helios.operatorPages`: how many operator pages are open (the operator's polls wait for one).
  functionGlobalContext: { helios: session.live },
};
