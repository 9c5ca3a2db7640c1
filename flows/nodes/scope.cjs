/**
 * Dashboard 2.0 plugin: who may receive a widget message (see lib/session.cjs for
 * who a socket is). Dashboard 2.0 calls these hooks for the widget types listed in
 * the ui-base's acceptsClientConfig.
 *  - A message addressed to a socket (msg._client.socketId) goes to that socket only
 *    (Dashboard's own rule) and, like one marked for the operator, is never stored
 *    for replay to sockets that connect later.
 *  - A message marked `heliosAudience: "operator"` goes to operator sockets only.
 *  - Every message a page sends carries the role its socket proved at connect
 *    (msg._client.heliosRole), so operator actions can be refused to anyone else.
 */
'use strict';

function roleOf(conn) {
  return (conn && conn.request && conn.request.helios && conn.request.helios.role) || 'public';
}

const hooks = {
  onIsValidConnection(conn, msg) {
    if (msg && msg.heliosAudience === 'operator') return roleOf(conn) === 'operator';
    return true;
  },
  onAddConnectionCredentials(conn, msg) {
    msg._client = { ...(msg._client || {}), heliosRole: roleOf(conn) };
    return msg;
  },
  onCanSaveInStore(msg) {
    return !(msg && ((msg._client && msg._client.socketId) || msg.heliosAudience));
  },
};

module.exports = function (RED) {
  RED.plugins.registerPlugin('helios-dashboard-scope', { type: 'node-red-dashboard-2', hooks });
};
module.exports.hooks = hooks;
