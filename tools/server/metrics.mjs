// Operations endpoints: GET /healthz (for load balancers and orchestrators) and GET /metrics
// (Prometheus text exposition format 0.0.4). The numbers come from the room machine's own
// counters (ServerCore.stats()), read on each scrape; nothing is sampled or averaged here:
// rates such as messages/s are Prometheus's job (rate(chorus_messages_received_total[1m])).

import { performance } from 'node:perf_hooks';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The room machine's counters as ServerCore.stats() reports them (docs/architecture.md).
 * `extra` lets a host add metric families of its own (e.g. cluster gauges in Redis mode).
 * @typedef {object} Stats
 * @property {number} [connections] @property {number} [rooms] @property {number} [peers]
 * @property {number} [messagesIn] @property {number} [messagesOut]
 * @property {number} [bytesIn] @property {number} [bytesOut]
 * @property {Record<string, number>} [errors]  error code -> count
 * @property {number} [policyCloses]
 * @property {MetricFamily[]} [extra]
 */
/**
 * @typedef {object} MetricFamily
 * @property {string} name  @property {string} help  @property {'gauge'|'counter'} type
 * @property {{labels?: Record<string, string>, value: number}[]} samples
 */

/** [stats field, metric name, type, help] for the scalar families, in exposition order. */
const SCALARS = [
  ['connections', 'chorus_connections', 'gauge', 'Open WebSocket connections.'],
  ['rooms', 'chorus_rooms', 'gauge', 'Rooms that exist (have at least one peer).'],
  ['peers', 'chorus_peers', 'gauge', 'Peers in rooms, connected or within their resume grace.'],
  ['messagesIn', 'chorus_messages_received_total', 'counter', 'WebSocket messages received from clients.'],
  ['messagesOut', 'chorus_messages_sent_total', 'counter', 'WebSocket messages sent to clients.'],
  ['bytesIn', 'chorus_bytes_received_total', 'counter', 'Bytes of WebSocket message payload received.'],
  ['bytesOut', 'chorus_bytes_sent_total', 'counter', 'Bytes of WebSocket message payload sent.'],
  ['policyCloses', 'chorus_policy_closes_total', 'counter', 'Connections closed for breaking policy (repeat offenders, origin, limits).'],
];

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Renders the exposition text: the room machine's families (omitted when `stats` is null,
 * i.e. the machine is down), `stats.extra`, then process metrics.
 * @param {Stats|null} stats
 * @param {{rss: number, heapUsed: number, startTimeSeconds: number}} proc
 * @returns {string}
 */
export function renderMetrics(stats, proc) {
  const families = [];
  if (stats) {
    for (const [field, name, type, help] of SCALARS) {
      const v = stats[field];
      families.push({ name, type, help, samples: typeof v === 'number' ? [{ value: v }] : [] });
    }
    const errors = stats.errors && typeof stats.errors === 'object' ? stats.errors : {};
    families.push({
      name: 'chorus_errors_total', type: 'counter', help: 'Typed protocol errors sent to clients, by error code.',
      samples: Object.keys(errors).sort().map((code) => ({ labels: { code }, value: errors[code] })),
    });
    if (Array.isArray(stats.extra)) families.push(...stats.extra);
  }
  families.push(
    { name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident memory size in bytes.', samples: [{ value: proc.rss }] },
    { name: 'process_start_time_seconds', type: 'gauge', help: 'Start time of the process since the Unix epoch in seconds.', samples: [{ value: proc.startTimeSeconds }] },
    { name: 'nodejs_heap_used_bytes', type: 'gauge', help: 'V8 heap in use, in bytes.', samples: [{ value: proc.heapUsed }] },
  );
  return families.map(renderFamily).join('');
}

function renderFamily({ name, type, help, samples }) {
  if (!NAME_RE.test(name)) throw new RangeError(`bad metric name "${name}"`);
  let out = `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
  for (const { labels = {}, value } of samples) {
    const pairs = Object.entries(labels).map(([k, v]) => {
      if (!LABEL_RE.test(k) || k.startsWith('__')) throw new RangeError(`bad label name "${k}"`);
      return `${k}="${escapeLabelValue(v)}"`;
    });
    out += `${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}\n`;
  }
  return out;
}

/** In HELP text, backslash and line feed are escaped (format 0.0.4). */
export const escapeHelp = (s) => String(s).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
/** In label values, backslash, double quote and line feed are escaped (format 0.0.4). */
export const escapeLabelValue = (s) => String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function formatValue(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(Number(v));
}

function processStats() {
  const mem = process.memoryUsage();
  // timeOrigin is when this process's clock started: its start time, to the millisecond.
  return { rss: mem.rss, heapUsed: mem.heapUsed, startTimeSeconds: Math.round(performance.timeOrigin) / 1000 };
}

/**
 * Returns a request handler for /healthz and /metrics: `(req, res) => boolean`, true when it
 * answered (any other path is left to the next handler).
 *
 * @param {object} source
 * @param {() => Stats|null} source.getStats  the room machine's counters; null (or a throw)
 *   means the machine is down
 * @param {() => 'serving'|'shutting-down'} source.getState
 * @param {number} [source.startedAt=Date.now()]  for /healthz's `uptime` (seconds)
 * @param {() => {reachable: boolean}|null} [source.getMediaServer]  the configured Janus, if
 *   any: /healthz reports it (rooms fall back to the mesh without it; the server stays ok)
 */
export function createOpsHandler({ getStats, getState, startedAt = Date.now(), getMediaServer = () => null }) {
  const readStats = () => {
    try {
      return getStats() ?? null;
    } catch {
      return null;
    }
  };

  return function handleOps(req, res) {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== '/healthz' && path !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { Allow: 'GET, HEAD' });
      return true;
    }
    const stats = readStats();
    if (path === '/metrics') {
      send(res, 200, METRICS_CONTENT_TYPE, renderMetrics(stats, processStats()));
      return true;
    }
    let status = 200;
    let body;
    if (getState() !== 'serving') {
      status = 503;
      body = { status: 'shutting-down' };
    } else if (!stats) {
      status = 503;
      body = { status: 'down' };
    } else {
      body = {
        status: 'ok',
        uptime: Math.round(Date.now() - startedAt) / 1000,
        connections: stats.connections,
        rooms: stats.rooms,
      };
      const media = getMediaServer();
      if (media) body.mediaServer = { reachable: media.reachable };
    }
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(body) + '\n');
    return true;
  };
}

function send(res, status, type, text, extra = {}) {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-store', ...extra });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}
