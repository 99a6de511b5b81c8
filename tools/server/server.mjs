// The chorus-rtc reference signaling server.
//
// The room logic is the sans-IO ServerCore from the wasm module (wasm/signaling/, built to
// dist/chorus-server.mjs). This file only moves bytes: it gives every WebSocket a connection id,
// reports connect / message / close to the core with the current time, executes the actions
// the core returns from poll() (send, close), and keeps one timer for core.nextTimeout().
// Static files (the demo pages) are served on the same port (static.mjs).

import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';
import createChorusServer from '../../dist/chorus-server.mjs';
import { createStaticHandler } from './static.mjs';
import { startRegistry } from './cluster/registry.mjs';
import { createRouter } from './cluster/router.mjs';
import { watchJanus } from './janus-probe.mjs';
import { redactUrl } from './config.mjs';
import { toLogger } from './log.mjs';
import { createOpsHandler } from './metrics.mjs';
import { drainSockets, RESTART_CLOSE_CODE, RESTART_CLOSE_REASON } from './drain.mjs';

/** The package root: tools/server/ is two levels below it (also in an installed package). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** ws rejects frames above this with a socket close; keep it far above the core's own limit so
 * that oversize messages reach the core and get a typed `message-too-large` answer. */
const WS_MAX_PAYLOAD = 16 * 1024 * 1024;
/** WebSocket-level ping interval: a socket that misses one pong is terminated (close 1006). */
const DEFAULT_PING_INTERVAL_MS = 15000;
/** A client that does not read its socket makes ws buffer every frame sent to it; past this many
 * bytes the socket is terminated (reported to the core as 1006, so the peer may resume). */
const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** A close reason is at most 123 bytes of UTF-8 (RFC 6455 5.5). */
const MAX_CLOSE_REASON_BYTES = 123;
/** setTimeout's largest delay. */
const MAX_TIMER_DELAY_MS = 0x7fffffff;

/**
 * Instantiates the wasm module. Each server gets an instance of its own, so a trap in one
 * server's machine cannot leave another server's memory in an unknown state.
 */
export function instantiateCore() {
  return createChorusServer();
}

/** 128 bits of entropy as four uint32 words (JS numbers cannot hold 64-bit integers). */
function randomSeed() {
  const b = randomBytes(16);
  return [0, 4, 8, 12].map((o) => b.readUInt32LE(o));
}

/** The client's IP address, IPv4-mapped IPv6 written as IPv4 (one address, one count). */
function clientAddress(req) {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Scale-out gauges for /metrics, labelled with this process's node id. */
function clusterFamilies({ nodeId, hostedRooms, remoteConnections, handedOver }) {
  const gauge = (name, help, value) => ({ name, help, type: 'gauge', samples: [{ labels: { node: nodeId }, value }] });
  return [
    gauge('chorus_cluster_hosted_rooms', 'Rooms whose Redis lease this process holds.', hostedRooms),
    gauge('chorus_cluster_remote_connections', 'Connections of other processes hosted here.', remoteConnections),
    gauge('chorus_cluster_handed_over_sockets', 'Sockets of this process whose room is hosted elsewhere.', handedOver),
  ];
}

function truncateReason(reason) {
  if (typeof reason !== 'string' || reason === '') return undefined;
  let r = reason;
  while (Buffer.byteLength(r, 'utf8') > MAX_CLOSE_REASON_BYTES) r = r.slice(0, -1);
  return r;
}

function isValidCloseCode(code) {
  return Number.isInteger(code) && (code === 1000 || (code >= 3000 && code <= 4999) ||
    (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006));
}

/**
 * Starts the signaling server and static file server on one HTTP port.
 *
 * @param {object} [options]
 * @param {number} [options.port=8080]  0 picks a free port
 * @param {string} [options.host]       listen address; default: every address (:: or 0.0.0.0)
 * @param {object} [options.config]     ServerCore config (docs/architecture.md); `seed` is
 *                                      filled with crypto-random values when absent
 * @param {number} [options.pingIntervalMs=15000]  WebSocket-level ping period
 * @param {number} [options.maxBufferedBytes=8 MiB]  outgoing bytes buffered for one slow
 *                                      socket before it is terminated
 * @param {string} [options.root]       folder to serve static files from (the package root)
 * @param {string} [options.redis]      Redis URL: scale out over Redis (cluster/router.mjs) with
 *                                      every other server given the same URL; absent: rooms
 *                                      live in this process only
 * @param {string} [options.nodeId]     this server's id in the cluster (default: random)
 * @param {() => Promise<any>} [options.loadModule]  instantiates the wasm module (default
 *                                      instantiateCore; tests inject faults through it)
 * @param {{info: Function, error: Function, warn?: Function, debug?: Function}|null} [options.logger]
 *                                      null = silent; default: JSON lines on stdout (log.mjs)
 * @returns {Promise<{port: number, url: string, wsUrl: string,
 *   close: (opts?: {graceful?: boolean, timeoutMs?: number}) => Promise<void>}>}
 *   close() ends at once; close({graceful: true}) first closes every socket with 1012 and waits
 *   up to timeoutMs (10000) for them (drain.mjs), answering /healthz with 503 meanwhile
 */
export async function startServer(options = {}) {
  const {
    port = 8080,
    host,
    config = {},
    pingIntervalMs = DEFAULT_PING_INTERVAL_MS,
    maxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES,
    root = PACKAGE_ROOT,
    loadModule = instantiateCore,
    redis,
  } = options;
  const log = toLogger(options.logger);

  const coreConfig = { ...config };
  if (coreConfig.seed === undefined) coreConfig.seed = randomSeed();
  const configJson = JSON.stringify(coreConfig);

  let core = new (await loadModule()).ServerCore(configJson);

  /** The core's connections: local WebSockets, and (scale-out) RemoteSockets of other nodes.
   * @type {Map<number, import('ws').WebSocket>} */
  const sockets = new Map();
  let nextConnId = 1;
  /** Scale-out over Redis (cluster/router.mjs); null: every room lives in this process. */
  let router = null;
  /** The configured Janus's reachability (janus-probe.mjs); null without one. */
  let janus = null;
  let timer = null;
  let timerDeadline = -1;
  let closed = false;
  let draining = false; // graceful close under way: /healthz 503, new sockets refused with 1012

  /** Ids are uint32 in the core: wrap around, skipping any still in use here. */
  function newConnId() {
    let id;
    do {
      id = nextConnId;
      nextConnId = nextConnId >= 0xffffffff ? 1 : nextConnId + 1;
    } while (sockets.has(id) || router?.has(id));
    return id;
  }

  // ---- the core's output -------------------------------------------------------------------

  function execute(out) {
    let action;
    try {
      action = JSON.parse(out);
    } catch {
      log.error('core produced unparsable output:', out.slice(0, 200));
      return;
    }
    const ws = sockets.get(action.conn);
    if (!ws) return; // the socket is already gone; nothing to do
    switch (action.action) {
      case 'send':
        if (ws.readyState !== ws.OPEN) break;
        router?.sent(action.conn, action.data);
        if (ws.bufferedAmount > maxBufferedBytes) {
          log.error(`connection ${action.conn}: ${ws.bufferedAmount} bytes unread, terminating`);
          ws.terminate();
          break;
        }
        ws.send(action.data);
        break;
      case 'close':
        ws.close(isValidCloseCode(action.code) ? action.code : 1000, truncateReason(action.reason));
        break;
      default:
        log.error('core produced an unknown action:', action.action);
    }
  }

  function drain() {
    for (;;) {
      const out = core.poll();
      if (out === '' || out == null) break;
      try {
        execute(out);
      } catch (err) {
        log.error('executing a core action failed:', err);
      }
    }
    armTimer();
  }

  function armTimer() {
    if (closed) return;
    const deadline = core.nextTimeout();
    if (deadline === timerDeadline && (timer !== null || deadline < 0)) return;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    timerDeadline = deadline;
    if (deadline < 0) return;
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, Math.ceil(deadline - performance.now())));
    timer = setTimeout(onTimer, delay);
  }

  function onTimer() {
    timer = null;
    timerDeadline = -1;
    withCore('timeout', () => core.handleTimeout(performance.now()));
  }

  /** Runs one input into the core and drains its output; an error never escapes. */
  function withCore(what, fn) {
    if (closed || core === null) return;
    try {
      core.setWallClock(Date.now()); // token expiry and TURN credentials are absolute times
      fn();
      drain();
    } catch (err) {
      log.error(`core failed handling ${what}:`, err);
      if (err instanceof WebAssembly.RuntimeError) recoverCore();
      else {
        try { drain(); } catch { /* reported above */ }
      }
    }
  }

  /** A wasm trap leaves the instance in an unknown state: start over with a fresh machine and
   * drop every connection (clients reconnect and resume). */
  function recoverCore() {
    log.error('wasm trap: restarting the room machine and closing all connections');
    try { core.delete(); } catch { /* the old instance may be unusable */ }
    core = null;
    const old = [...sockets.values()];
    sockets.clear();
    for (const ws of old) {
      try { ws.close(1011, 'server restarted'); } catch { ws.terminate(); }
    }
    if (timer !== null) clearTimeout(timer);
    timer = null;
    timerDeadline = -1;
    Promise.resolve()
      .then(() => loadModule())
      .then((m) => {
        if (closed) return;
        core = new m.ServerCore(JSON.stringify({ ...coreConfig, seed: randomSeed() }));
        if (janus?.reachable()) withCore('janus', () => core.setMediaServers(true, performance.now()));
        armTimer();
      })
      .catch((err) => log.error('could not restart the room machine:', err));
  }

  // ---- sockets -------------------------------------------------------------------------------

  const staticHandler = createStaticHandler(root);
  const opsHandler = createOpsHandler({
    getStats: () => {
      if (core === null) return null;
      const stats = JSON.parse(core.stats());
      if (router) stats.extra = clusterFamilies(router.stats());
      return stats;
    },
    getState: () => (draining || closed ? 'shutting-down' : 'serving'),
    getMediaServer: () => (janus ? { reachable: janus.reachable() } : null),
  });
  const httpServer = http.createServer((req, res) => {
    try {
      if (!opsHandler(req, res)) staticHandler(req, res);
    } catch (err) {
      log.error('static handler failed:', err);
      try { res.writeHead(500).end(); } catch { res.destroy(); }
    }
  });
  httpServer.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const wss = new WebSocketServer({
    server: httpServer,
    maxPayload: WS_MAX_PAYLOAD,
    perMessageDeflate: false,
    clientTracking: false,
  });
  wss.on('error', (err) => log.error('websocket server error:', err));

  wss.on('connection', (ws, req) => {
    if (draining) {
      ws.close(RESTART_CLOSE_CODE, RESTART_CLOSE_REASON);
      return;
    }
    if (closed || core === null) {
      ws.close(1013, 'try again later');
      return;
    }
    const connId = newConnId();
    sockets.set(connId, ws);
    const address = clientAddress(req);
    const origin = req.headers.origin ?? '';
    router?.track(connId, ws, address, origin);
    ws.lastHeard = performance.now();
    ws.pingSentAt = -1;

    ws.on('pong', () => { ws.lastHeard = performance.now(); });
    ws.on('error', (err) => log.error(`connection ${connId}:`, err.message));
    ws.on('message', (data, isBinary) => {
      ws.lastHeard = performance.now();
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const text = isBinary ? '' : buf.toString('utf8');
      if (router?.message(connId, text, isBinary, buf.length)) return;
      if (sockets.get(connId) !== ws || core === null) return;
      withCore('message', () =>
        core.handleMessage(connId, text, isBinary, buf.length, performance.now()));
    });
    ws.on('close', (code) => {
      if (router?.closed(connId, code) || sockets.get(connId) !== ws) return;
      sockets.delete(connId);
      if (core === null) return;
      // 1005 = the peer sent no code; 1006 = the TCP connection ended without a close frame
      // (also what a socket we terminated for a missed pong reports).
      withCore('close', () => core.handleClose(connId, code, performance.now()));
    });

    // Fresh OS entropy per connection keeps ids and resume secrets unpredictable to clients
    // that see many of them.
    withCore('connect', () => {
      core.addEntropy(...randomSeed());
      core.handleConnect(connId, performance.now(), address, origin);
    });
  });

  if (redis) {
    // The router reaches the core only through these calls, the same ones a local socket makes.
    const host = {
      newConnId,
      attach(connId, socket, address, origin) {
        sockets.set(connId, socket);
        withCore('connect', () => {
          core.addEntropy(...randomSeed());
          core.handleConnect(connId, performance.now(), address, origin);
        });
      },
      detach(connId) {
        sockets.delete(connId);
        withCore('close', () => core.handleClose(connId, 1000, performance.now()));
      },
      deliver(connId, text, isBinary, bytes) {
        if (!sockets.has(connId)) return;
        withCore('message', () => core.handleMessage(connId, text, isBinary, bytes, performance.now()));
      },
      dropped(connId, code) {
        if (!sockets.delete(connId)) return;
        withCore('close', () => core.handleClose(connId, code, performance.now()));
      },
      peerCount: (room) => (core === null ? 0 : core.peerCount(room)),
      closeConn(connId, code, reason) {
        sockets.get(connId)?.close(code, reason);
      },
      hasConn: (connId) => sockets.has(connId),
    };
    try {
      const registry = await startRegistry({
        url: redis, nodeId: options.nodeId, log, onMessage: (msg) => router?.onMessage(msg),
        onInboxGap: () => router?.inboxGap(),
      });
      router = createRouter({ registry, host, log, maxBufferedBytes, maxFrameBytes: coreConfig.maxMessageBytes ?? 65536 });
    } catch (err) {
      core.delete();
      core = null;
      throw new Error(`cannot reach Redis at ${redactUrl(redis)}: ${err.message}`);
    }
  }

  if (typeof coreConfig.janus?.url === 'string' && coreConfig.janus.url !== '') {
    janus = watchJanus({
      url: coreConfig.janus.url, log,
      onChange: (reachable) => withCore('janus', () => core.setMediaServers(reachable, performance.now())),
    });
  }

  // WebSocket-level liveness: a TCP peer that vanished without a FIN never sends a close
  // frame. Only a socket silent for a whole interval is pinged (a chorus client talks every
  // 10 s, so a busy server pings next to nobody: pinging 10k sockets in one go stalled the
  // event loop for 0.2-0.7 s, the relay's p99), and one silent for two intervals, its ping
  // unanswered, is terminated (reported as 1006).
  const pingTimer = setInterval(() => {
    const now = performance.now();
    // Our WebSockets, handed over to another process's room or not (RemoteSockets stand for
    // other processes' sockets: their edge watches those).
    const all = router ? new Set([...sockets.values(), ...router.localSockets()]) : sockets.values();
    for (const ws of all) {
      if (ws.remote) continue;
      const silent = now - ws.lastHeard;
      if (silent >= 2 * pingIntervalMs) {
        ws.terminate();
      } else if (silent >= pingIntervalMs && ws.pingSentAt < ws.lastHeard) {
        ws.pingSentAt = now;
        try { ws.ping(); } catch { /* a closing socket */ }
      }
    }
  }, Math.min(1000, pingIntervalMs / 2));
  pingTimer.unref();

  try {
    await new Promise((resolve, reject) => {
      const onError = (err) => reject(err);
      httpServer.once('error', onError);
      httpServer.listen({ port, host }, () => {
        httpServer.off('error', onError);
        resolve();
      });
    });
  } catch (err) {
    // e.g. EADDRINUSE: leave nothing behind.
    closed = true;
    clearInterval(pingTimer);
    wss.close();
    core.delete();
    core = null;
    throw err;
  }
  httpServer.on('error', (err) => log.error('http server error:', err));

  const boundPort = httpServer.address().port;
  const urlHost = !host || host === '0.0.0.0' || host === '::' ? 'localhost'
    : host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${boundPort}/`;
  const wsUrl = `ws://${urlHost}:${boundPort}/`;

  let closePromise = null;
  let drainPromise = null;
  const abortDrain = new AbortController();
  function close({ graceful = false, timeoutMs = 10000 } = {}) {
    if (graceful && closePromise === null) {
      drainPromise ??= (async () => {
        draining = true;
        log.info('graceful shutdown: closing connections with 1012', { connections: sockets.size, timeoutMs });
        await router?.beginDrain();
        const local = router ? router.localSockets() : sockets.values();
        const r = await drainSockets(local, { timeoutMs, signal: abortDrain.signal });
        log.info('graceful shutdown: connections closed', r);
        return close();
      })();
      return drainPromise;
    }
    abortDrain.abort(); // a hard close during a drain cuts it short
    closePromise ??= (async () => {
      closed = true;
      clearInterval(pingTimer);
      if (timer !== null) clearTimeout(timer);
      timer = null;
      for (const ws of sockets.values()) ws.terminate();
      for (const ws of router?.localSockets() ?? []) ws.terminate();
      janus?.close();
      sockets.clear();
      await router?.close();
      await new Promise((resolve) => wss.close(() => resolve()));
      await new Promise((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
      if (core !== null) {
        core.delete();
        core = null;
      }
    })();
    return closePromise;
  }

  return { port: boundPort, url, wsUrl, close };
}
