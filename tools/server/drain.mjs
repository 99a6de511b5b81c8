// Graceful shutdown of the open WebSockets: each gets a close frame with 1012 ("service
// restart", RFC 6455 / IANA), which chorus clients answer by reconnecting (to another instance
// behind the load balancer) and resuming their seat. A client that does not finish the close
// handshake in time is cut off, so a restart never hangs on one stuck peer.

export const RESTART_CLOSE_CODE = 1012;
export const RESTART_CLOSE_REASON = 'server restarting';

/**
 * Closes every socket in `sockets` and resolves when all have closed, when `timeoutMs` has
 * passed (the rest are terminated), or when `signal` aborts (the rest are terminated at once).
 *
 * @param {Iterable<import('ws').WebSocket>} sockets  a snapshot is taken
 * @param {object} [options]
 * @param {number} [options.timeoutMs=10000]
 * @param {AbortSignal} [options.signal]
 * @returns {Promise<{closed: number, terminated: number}>}
 */
export async function drainSockets(sockets, { timeoutMs = 10000, signal } = {}) {
  const open = [...sockets].filter((ws) => ws.readyState !== ws.CLOSED);
  const closedOne = (ws) => new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) resolve();
    else ws.once('close', () => resolve());
  });
  const allClosed = Promise.all(open.map(closedOne));
  for (const ws of open) {
    try {
      ws.close(RESTART_CLOSE_CODE, RESTART_CLOSE_REASON);
    } catch {
      ws.terminate();
    }
  }

  let timer;
  let onAbort;
  const cutOff = new Promise((resolve) => {
    timer = setTimeout(resolve, Math.max(0, timeoutMs));
    onAbort = resolve;
    if (signal?.aborted) resolve();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  await Promise.race([allClosed, cutOff]);
  clearTimeout(timer);
  signal?.removeEventListener('abort', onAbort);

  let terminated = 0;
  for (const ws of open) {
    if (ws.readyState !== ws.CLOSED) {
      ws.terminate();
      terminated++;
    }
  }
  return { closed: open.length - terminated, terminated };
}
