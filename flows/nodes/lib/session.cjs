/**
 * Who is at the other end of a dashboard socket (settings.dashboard.ioMiddleware).
 *
 * Dashboard 2.0 serves /dashboard/socket.io to anyone and sends every widget's
 * messages to every socket unless told otherwise. Helios closes that in two places:
 *  - here, at connect: a socket from another origin is refused; a socket that
 *    presents the operator's secret (cookie `helios_operator`, set by the
 *    Operator page's sign-in) is the operator's, a wrong secret is refused
 *    (E_NOT_AUTHORIZED), anything else is a public socket;
 *  - per message (helios.cjs, the dashboard plugin hooks): a message addressed to a
 *    socket (msg._client.socketId) goes to that socket only and is never kept for
 *    late joiners, and a message marked for the operator goes to operator sockets only.
 * A household is never identified by its socket: each of its requests carries a
 * Login token its browser has just signed, and the gateway checks it
 * (`Authorization: Helios <token>`); the answer goes back to the asking socket only.
 */
'use strict';

function cookies(header) {
  const out = {};
  for (const part of String(header || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

class SessionError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
    this.data = { code, message };
  }
}

/**
 * @param {{ handshake: { xdomain?: boolean, headers: Record<string, string> } }} socket
 * @param {{ isOperator(secret: string): boolean }} o
 * @returns {{ role: 'operator' | 'public' }}
 */
function authenticateSocket(socket, o) {
  const h = socket.handshake || {};
  if (h.xdomain) throw new SessionError('E_CROSS_ORIGIN', 'dashboard sockets are accepted from the dashboard\'s own origin only');
  const c = cookies(h.headers && h.headers.cookie);
  if (c.helios_operator !== undefined && c.helios_operator !== '') {
    if (!o.isOperator(c.helios_operator)) throw new SessionError('E_NOT_AUTHORIZED', 'the operator secret is wrong; sign in again on the Operator page');
    return { role: 'operator' };
  }
  return { role: 'public' };
}

/**
 * Dashboard sockets open now, by role (the flows read it as global `helios`): the
 * operator's views poll the gateway only while an operator page is open — with a
 * thousand meters the meter list alone is ~450 KiB every poll, for nobody otherwise.
 */
const live = { operatorPages: 0 };

/** Count a socket that authenticateSocket admitted, until it disconnects. */
function track(socket, session) {
  if (!session || session.role !== 'operator') return;
  live.operatorPages++;
  socket.once('disconnect', () => { live.operatorPages--; });
}

module.exports = { authenticateSocket, cookies, SessionError, live, track };
