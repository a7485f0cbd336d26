// A receive page's gateway socket, opened while the document is parsed,
// before the app's bundles are loaded and started (ADR 0034): the
// WebSocket handshake then runs beside them, and the app's signaling client
// adopts the socket (browser-page-environment.ts, takeEarlySocket) and sends
// its Hello on it. A plain script, not part of the app's bundles: it must
// run before them. Only on /s/<id> with a fragment; anything odd and the app
// opens its own socket as before.
'use strict';
(function () {
  if (!/^\/s\/[^/]+$/.test(location.pathname) || location.hash.length < 2) return;
  try {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(scheme + '//' + location.host + '/ws');
    socket.binaryType = 'arraybuffer';
    window.__esEarlySocket = socket;
  } catch {
    // No early socket: the app opens one when it starts.
  }
})();
