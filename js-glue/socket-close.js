// Closing a WebSocket the core already counts as gone: its events are detached first (a close
// event, which may come much later from a dead connection, must not be reported), and a close
// code scripts may not send falls back to 1000. `code` undefined sends no status.

/** @param {WebSocket} ws @param {number} [code] */
export function closeSilently(ws, code) {
  ws.onopen = ws.onmessage = ws.onclose = null;
  if (ws.readyState !== WebSocket.CONNECTING && ws.readyState !== WebSocket.OPEN) return;
  try {
    ws.close(code);
  } catch (err) {
    // Scripts may only use 1000 and 3000-4999; anything else throws InvalidAccessError.
    console.warn(`chorus: WebSocket.close(${code}) refused, closing with 1000`, err);
    ws.close(1000);
  }
}
