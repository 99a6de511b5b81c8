// Operations of the reference server (tools/server/): /healthz, Prometheus /metrics, structured
// logs, graceful shutdown, development tokens, and the CLI configured by its environment.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, instantiateCore } from '../../tools/server/server.mjs';
import { createLogger, toLogger, SILENT } from '../../tools/server/log.mjs';
import { renderMetrics, METRICS_CONTENT_TYPE } from '../../tools/server/metrics.mjs';
import { mintToken } from '../../tools/server/token.mjs';
import { parseConfig } from '../../tools/server/config.mjs';
import { TestClient, HOST, sleep } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'tools/server/cli.mjs');
const MINT = path.join(ROOT, 'tools/mint-token.mjs');

let roomSeq = 0;
const freshRoom = () => `ops-${process.pid}-${++roomSeq}`;

// ---- a strict reader of the Prometheus text format 0.0.4 ---------------------------------------

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

function unescape(s, quotes) {
  return s.replace(quotes ? /\\(["\\n])/g : /\\([\\n])/g, (_, c) => (c === 'n' ? '\n' : c));
}

/** label text `a="x",b="y\"z"` -> {a: 'x', b: 'y"z'}; throws on anything malformed. */
function parseLabels(text) {
  const labels = {};
  let rest = text;
  while (rest.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/.exec(rest);
    if (!m) throw new Error(`bad labels: ${text}`);
    if (m[1] in labels) throw new Error(`label ${m[1]} repeated: ${text}`);
    labels[m[1]] = unescape(m[2], true);
    rest = rest.slice(m[0].length);
  }
  return labels;
}

function parseValue(s) {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value: ${s}`);
  return Number(s);
}

/**
 * Parses exposition text into Map(name -> {help, type, samples: [{labels, value}]}), enforcing:
 * HELP/TYPE at most once per family and before its samples, known types, samples of a family
 * together, well-formed names, labels, values, and a final line feed.
 */
function parseExposition(text) {
  assert.ok(text.endsWith('\n'), 'ends with a line feed');
  const families = new Map();
  const closed = new Set();
  let current = null;
  const family = (name) => {
    if (!families.has(name)) families.set(name, { help: undefined, type: undefined, samples: [] });
    if (current !== name) {
      if (closed.has(name)) throw new Error(`family ${name} is not contiguous`);
      if (current) closed.add(current);
      current = name;
    }
    return families.get(name);
  };
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    let m;
    if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      const f = family(m[1]);
      if (f.help !== undefined) throw new Error(`second HELP for ${m[1]}`);
      f.help = unescape(m[2], false);
    } else if ((m = new RegExp(`^# TYPE (${NAME}) (\\S+)$`).exec(line))) {
      const f = family(m[1]);
      if (f.type !== undefined || f.samples.length) throw new Error(`TYPE for ${m[1]} repeated or after samples`);
      if (!TYPES.includes(m[2])) throw new Error(`unknown type ${m[2]}`);
      f.type = m[2];
    } else if (line.startsWith('#')) {
      continue; // a plain comment
    } else if ((m = SAMPLE_RE.exec(line))) {
      const f = family(m[1]);
      if (f.type === undefined) throw new Error(`sample of ${m[1]} before its TYPE`);
      f.samples.push({ labels: m[2] === undefined ? {} : parseLabels(m[2]), value: parseValue(m[3]) });
    } else {
      throw new Error(`malformed line: ${JSON.stringify(line)}`);
    }
  }
  return families;
}

/** The value of the sample of `name` whose labels include `labels` (0 when absent). */
function valueOf(families, name, labels = {}) {
  const s = families.get(name)?.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s ? s.value : 0;
}

async function scrape(base) {
  const r = await fetch(new URL('/metrics', base));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), METRICS_CONTENT_TYPE);
  return parseExposition(await r.text());
}

// ---- /healthz and /metrics ---------------------------------------------------------------------

describe('/healthz and /metrics', () => {
  let srv;
  const clients = [];
  before(async () => {
    srv = await startServer({ port: 0, host: HOST, logger: null });
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await srv.close();
  });

  test('GET /healthz is 200 JSON with uptime, connections and rooms', async () => {
    const a = await TestClient.connect(srv.wsUrl);
    clients.push(a);
    await a.join(freshRoom(), 'A');
    const r = await fetch(`${srv.url}healthz`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const body = await r.json();
    assert.deepEqual(Object.keys(body).sort(), ['connections', 'rooms', 'status', 'uptime']);
    assert.equal(body.status, 'ok');
    assert.ok(body.uptime >= 0 && body.uptime < 600, `uptime ${body.uptime}`);
    assert.ok(body.connections >= 1, `connections ${body.connections}`);
    assert.ok(body.rooms >= 1, `rooms ${body.rooms}`);
    const q = await fetch(`${srv.url}healthz?probe=1`);
    assert.equal((await q.json()).status, 'ok', 'a query string does not matter');
  });

  test('/metrics is valid exposition text; counters rise with real traffic and an error', async () => {
    const before = await scrape(srv.url);
    for (const [name, type] of [
      ['chorus_connections', 'gauge'], ['chorus_rooms', 'gauge'], ['chorus_peers', 'gauge'],
      ['chorus_messages_received_total', 'counter'], ['chorus_messages_sent_total', 'counter'],
      ['chorus_bytes_received_total', 'counter'], ['chorus_bytes_sent_total', 'counter'],
      ['chorus_errors_total', 'counter'], ['chorus_policy_closes_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'], ['process_start_time_seconds', 'gauge'],
      ['nodejs_heap_used_bytes', 'gauge'],
    ]) {
      const f = before.get(name);
      assert.ok(f, `${name} is exposed`);
      assert.equal(f.type, type, `${name} type`);
      assert.ok(f.help && f.help.length > 5, `${name} has help`);
    }
    const room = freshRoom();
    const a = await TestClient.connect(srv.wsUrl);
    const b = await TestClient.connect(srv.wsUrl);
    clients.push(a, b);
    await a.join(room, 'A');
    const { peerId: idb } = await b.join(room, 'B');
    await a.next('peer-joined');
    a.send({ type: 'signal', to: idb, kind: 'offer', sdp: 'v=0' });
    await b.next('signal');
    a.send('{not json');
    assert.equal((await a.next('error')).code, 'bad-json');
    const after = await scrape(srv.url);

    const rise = (name, labels) => valueOf(after, name, labels) - valueOf(before, name, labels);
    // In: 2 joins, 1 signal, 1 bad frame. Out: 2 welcomes, peer-joined, signal, error.
    assert.ok(rise('chorus_messages_received_total') >= 4, `received +${rise('chorus_messages_received_total')}`);
    assert.ok(rise('chorus_messages_sent_total') >= 5, `sent +${rise('chorus_messages_sent_total')}`);
    assert.ok(rise('chorus_bytes_received_total') >= 50, 'bytes received rise');
    assert.ok(rise('chorus_bytes_sent_total') >= 100, 'bytes sent rise');
    assert.equal(rise('chorus_errors_total', { code: 'bad-json' }), 1, 'one bad-json error');
    assert.ok(valueOf(after, 'chorus_connections') >= 2);
    assert.ok(valueOf(after, 'chorus_rooms') >= 1);
    assert.ok(valueOf(after, 'chorus_peers') >= 2);
    const start = valueOf(after, 'process_start_time_seconds');
    assert.ok(start > 1.6e9 && start <= Date.now() / 1000, `start time ${start}`);
    assert.ok(valueOf(after, 'process_resident_memory_bytes') > 1e6);
    assert.ok(valueOf(after, 'nodejs_heap_used_bytes') > 1e5);
  });

  test('HEAD works, other methods are 405, other paths go to the static files', async () => {
    const h = await fetch(`${srv.url}metrics`, { method: 'HEAD' });
    assert.equal(h.status, 200);
    assert.ok(Number(h.headers.get('content-length')) > 100);
    assert.equal(await h.text(), '');
    const p = await fetch(`${srv.url}healthz`, { method: 'POST', body: 'x' });
    assert.equal(p.status, 405);
    assert.equal(p.headers.get('allow'), 'GET, HEAD');
    await p.text();
    const n = await fetch(`${srv.url}metricsx`);
    assert.equal(n.status, 404);
    await n.text();
  });
});

describe('renderMetrics', () => {
  const proc = { rss: 1000, heapUsed: 500, startTimeSeconds: 1700000000.5 };

  test('label values and help are escaped; extra families are appended; values formatted', () => {
    const text = renderMetrics({
      connections: 1, rooms: 2, peers: 3, messagesIn: 4, messagesOut: 5, bytesIn: 6, bytesOut: 7,
      policyCloses: 8, errors: { 'bad-json': 2, 'we"ird\\code\nx': 1 },
      extra: [{ name: 'chorus_cluster_nodes', type: 'gauge', help: 'Nodes\\seen\nnow.', samples: [{ value: NaN }, { labels: { node: 'b' }, value: Infinity }] }],
    }, proc);
    const f = parseExposition(text);
    assert.equal(valueOf(f, 'chorus_errors_total', { code: 'we"ird\\code\nx' }), 1);
    assert.ok(text.includes('chorus_errors_total{code="we\\"ird\\\\code\\nx"} 1\n'), text);
    assert.equal(valueOf(f, 'chorus_errors_total', { code: 'bad-json' }), 2);
    assert.equal(valueOf(f, 'chorus_policy_closes_total'), 8);
    assert.equal(f.get('chorus_cluster_nodes').help, 'Nodes\\seen\nnow.');
    assert.ok(Number.isNaN(f.get('chorus_cluster_nodes').samples[0].value));
    assert.equal(valueOf(f, 'chorus_cluster_nodes', { node: 'b' }), Infinity);
    assert.equal(valueOf(f, 'process_start_time_seconds'), 1700000000.5);
  });

  test('a machine that is down (null stats) leaves only the process families', () => {
    const f = parseExposition(renderMetrics(null, proc));
    assert.deepEqual([...f.keys()], ['process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_used_bytes']);
  });

  test('bad names in extra families throw instead of corrupting the output', () => {
    assert.throws(() => renderMetrics({ extra: [{ name: 'bad name', type: 'gauge', help: 'x', samples: [] }] }, proc), RangeError);
    assert.throws(() => renderMetrics({ extra: [{ name: 'ok', type: 'gauge', help: 'x', samples: [{ labels: { 'a-b': 'x' }, value: 1 }] }] }, proc), RangeError);
  });
});

// ---- logging -----------------------------------------------------------------------------------

/** A stream that keeps what is written, line by line. */
function captureStream(isTTY = false) {
  const lines = [];
  return { lines, isTTY, write: (s) => { lines.push(...s.split('\n').filter(Boolean)); } };
}

describe('logging', () => {
  test('JSON lines: time, level, msg, fields; an Error becomes err; below the level is dropped', () => {
    const out = captureStream();
    const log = createLogger({ stream: out, level: 'info', fields: { pid: 7 }, now: () => new Date(0) });
    log.debug('not shown');
    log.info('listening', { url: 'http://x/', n: 1n });
    log.warn('value', 42);
    const err = Object.assign(new Error('boom'), { code: 'EBOOM' });
    log.error('failed', err, { conn: 3 });
    assert.equal(out.lines.length, 3);
    const [a, b, c] = out.lines.map((l) => JSON.parse(l));
    assert.deepEqual(a, { time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'listening', url: 'http://x/', n: '1', pid: 7 });
    assert.deepEqual(b, { time: '1970-01-01T00:00:00.000Z', level: 'warn', msg: 'value 42', pid: 7 });
    assert.equal(c.level, 'error');
    assert.equal(c.conn, 3);
    assert.equal(c.err.message, 'boom');
    assert.equal(c.err.code, 'EBOOM');
    assert.match(c.err.stack, /boom/);
  });

  test('a cyclic field does not throw; text format on a TTY; bad options are refused', () => {
    const out = captureStream();
    const cyclic = { a: 1 };
    cyclic.self = cyclic;
    createLogger({ stream: out }).info('x', { cyclic });
    assert.equal(JSON.parse(out.lines[0]).cyclic.self, '[circular]');

    const tty = captureStream(true);
    createLogger({ stream: tty, now: () => new Date(0) }).warn('slow client', { conn: 5, reason: 'too much' });
    assert.equal(tty.lines[0], '1970-01-01T00:00:00.000Z WARN  slow client conn=5 reason="too much"');
    assert.throws(() => createLogger({ level: 'loud' }), RangeError);
    assert.throws(() => createLogger({ format: 'xml' }), RangeError);
  });

  test('toLogger: null is silent; an {info, error} object gets warn -> error and a no-op debug', () => {
    assert.equal(toLogger(null), SILENT);
    const seen = [];
    const custom = toLogger({ info: (...a) => seen.push(['info', ...a]), error: (...a) => seen.push(['error', ...a]) });
    custom.debug('d');
    custom.warn('w', 1);
    custom.info('i');
    assert.deepEqual(seen, [['error', 'w', 1], ['info', 'i']]);
  });

  test('the server logs a failure as one JSON line carrying the error', async () => {
    const out = captureStream();
    const srv = await startServer({
      port: 0, host: HOST, logger: createLogger({ stream: out, format: 'json' }),
      loadModule: async () => {
        const mod = await instantiateCore();
        const original = mod.ServerCore.prototype.handleMessage;
        mod.ServerCore.prototype.handleMessage = function (conn, text, ...rest) {
          if (text === '"throw"') throw new Error('injected failure');
          return original.call(this, conn, text, ...rest);
        };
        return mod;
      },
    });
    try {
      const a = await TestClient.connect(srv.wsUrl);
      a.send('"throw"');
      await a.roundTrip(3);
      a.ws.terminate();
    } finally {
      await srv.close();
    }
    const events = out.lines.map((l) => JSON.parse(l));
    const failure = events.find((e) => e.err?.message === 'injected failure');
    assert.ok(failure, out.lines.join('\n'));
    assert.equal(failure.level, 'error');
    assert.ok(!Number.isNaN(Date.parse(failure.time)));
  });
});

// ---- graceful shutdown -------------------------------------------------------------------------

/** Opens a WebSocket by hand and then ignores everything, never answering a close frame. */
function stuckSocket(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, HOST);
    let head = '';
    sock.on('error', () => {});
    sock.once('error', reject);
    sock.on('connect', () => sock.write(`GET / HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\n` +
      'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'));
    const onData = (d) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        sock.off('data', onData);
        sock.on('data', () => {}); // the close frame is read but never answered
        assert.match(head, /^HTTP\/1\.1 101/);
        const ended = new Promise((r) => sock.on('close', r));
        resolve({ sock, ended });
      }
    };
    sock.on('data', onData);
  });
}

describe('graceful shutdown', () => {
  test('clients get 1012; /healthz is 503 and new sockets get 1012 during the drain; stuck ones are cut off', async () => {
    const srv = await startServer({ port: 0, host: HOST, logger: null });
    const a = await TestClient.connect(srv.wsUrl);
    await a.join(freshRoom(), 'A');
    const stuck = await stuckSocket(srv.port);
    const t0 = Date.now();
    const done = srv.close({ graceful: true, timeoutMs: 1500 });

    const closed = await a.waitClose(2000);
    assert.deepEqual(closed, { code: 1012, reason: 'server restarting' });
    const h = await fetch(`${srv.url}healthz`);
    assert.equal(h.status, 503);
    assert.deepEqual(await h.json(), { status: 'shutting-down' });
    const late = await TestClient.connect(srv.wsUrl);
    assert.equal((await late.waitClose(2000)).code, 1012, 'a socket opened during the drain is sent away');

    await done;
    const took = Date.now() - t0;
    assert.ok(took >= 1400 && took < 5000, `the drain waited for the stuck socket, then ended (${took} ms)`);
    await stuck.ended;
    await assert.rejects(fetch(`${srv.url}healthz`), 'the port is closed afterwards');
    await srv.close({ graceful: true }); // idempotent
  });

  test('with cooperative clients the drain ends as soon as they have closed', async () => {
    const srv = await startServer({ port: 0, host: HOST, logger: null });
    const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(srv.wsUrl)));
    const t0 = Date.now();
    await srv.close({ graceful: true, timeoutMs: 10000 });
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    for (const c of clients) assert.equal((await c.waitClose()).code, 1012);
  });

  test('a hard close() during the drain cuts it short', async () => {
    const srv = await startServer({ port: 0, host: HOST, logger: null });
    const stuck = await stuckSocket(srv.port);
    const t0 = Date.now();
    const drain = srv.close({ graceful: true, timeoutMs: 20000 });
    await sleep(100);
    await srv.close();
    await drain;
    await stuck.ended;
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  });
});

// ---- tokens ------------------------------------------------------------------------------------

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

describe('development tokens', () => {
  test('mintToken makes an HS256 JWT that verifies with the key', () => {
    const now = 1_700_000_000_123;
    const token = mintToken({ secret: 'k'.repeat(32), room: 'lobby', identity: 'ada', role: 'teacher', ttlSeconds: 600, now });
    const [h, p, s] = token.split('.');
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'base64url, no padding');
    assert.deepEqual(b64json(h), { alg: 'HS256', typ: 'JWT' });
    assert.deepEqual(b64json(p), { room: 'lobby', sub: 'ada', role: 'teacher', iat: 1_700_000_000, exp: 1_700_000_600 });
    assert.equal(s, createHmac('sha256', 'k'.repeat(32)).update(`${h}.${p}`).digest('base64url'));
    const plain = b64json(mintToken({ secret: 'x', room: '*', identity: 'bob', now }).split('.')[1]);
    assert.equal(plain.role, undefined, 'no role claim unless asked');
    assert.equal(plain.exp - plain.iat, 3600, 'one hour by default');
  });

  test('mintToken refuses what the server would refuse', () => {
    const ok = { secret: 's', room: 'r', identity: 'i' };
    assert.throws(() => mintToken({ ...ok, secret: '' }), TypeError);
    assert.throws(() => mintToken({ ...ok, room: '' }), TypeError);
    assert.throws(() => mintToken({ ...ok, identity: undefined }), TypeError);
    assert.throws(() => mintToken({ ...ok, role: 'admin' }), RangeError);
    assert.throws(() => mintToken({ ...ok, ttlSeconds: 0 }), RangeError);
    assert.throws(() => mintToken({ ...ok, ttlSeconds: 1.5 }), RangeError);
  });

  test('tools/mint-token.mjs prints a token; the key comes from the environment, never a flag', async () => {
    const secret = 'a-development-key-of-32-bytes!!!';
    const r = await run(MINT, ['--room', 'lobby', '--identity', 'ada', '--role', 'dispatcher', '--ttl', '120'], { CHORUS_AUTH_SECRET: secret });
    assert.equal(r.code, 0, r.err);
    const token = r.out.trim();
    const [h, p, s] = token.split('.');
    assert.equal(s, createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url'));
    const claims = b64json(p);
    assert.deepEqual([claims.room, claims.sub, claims.role, claims.exp - claims.iat], ['lobby', 'ada', 'dispatcher', 120]);
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60);

    for (const [args, env, re] of [
      [['--room', 'r', '--identity', 'i'], {}, /CHORUS_AUTH_SECRET/],
      [['--room', 'r', '--identity', 'i', '--secret', 'x'], {}, /not accepted/],
      [['--identity', 'i'], { CHORUS_AUTH_SECRET: secret }, /--room/],
      [['--room', 'r', '--identity', 'i', '--role', 'root'], { CHORUS_AUTH_SECRET: secret }, /--role/],
      [['--room', 'r', '--identity', 'i', '--ttl', '-5'], { CHORUS_AUTH_SECRET: secret }, /--ttl/],
    ]) {
      const bad = await run(MINT, args, env);
      assert.equal(bad.code, 2, args.join(' '));
      assert.match(bad.err, re);
      assert.equal(bad.out, '', 'no token printed');
    }
  });
});

describe('tokens, TURN and origins configured from the environment reach the core', () => {
  const secret = 'an-auth-key-for-tests-32-bytes!!';
  const turnSecret = 'coturn-static-auth-secret';
  let srv;
  const clients = [];
  const connect = async (opts) => {
    const c = await TestClient.connect(srv.wsUrl, opts);
    clients.push(c);
    return c;
  };
  before(async () => {
    const { serverOptions } = parseConfig([], {
      CHORUS_AUTH_SECRET: secret, CHORUS_REQUIRE_AUTH: '1',
      CHORUS_TURN_URLS: 'turn:10.77.0.1:3478?transport=udp', CHORUS_TURN_SECRET: turnSecret, CHORUS_TURN_TTL: '600',
      CHORUS_ALLOWED_ORIGINS: 'https://app.example.org',
    });
    srv = await startServer({ ...serverOptions, port: 0, host: HOST, logger: null });
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await srv.close();
  });
  const origin = { origin: 'https://app.example.org' };

  test('a minted token admits with its identity and role; tampered, expired, missing or other-room ones do not', async () => {
    const room = freshRoom();
    const a = await connect(origin);
    const w = await a.join(room, 'A', { token: mintToken({ secret, room, identity: 'ada', role: 'dispatcher' }) });
    assert.equal(w.identity, 'ada');
    assert.equal(w.role, 'dispatcher');

    const c = await connect(origin);
    const refused = async (token, code) => {
      c.send({ type: 'join', v: 1, room, name: 'C', ...(token === undefined ? {} : { token }) });
      const err = await c.next('error');
      assert.deepEqual([err.code, err.ref], [code, 'join'], JSON.stringify(err));
    };
    // Tampered: the payload claims a different identity under the original signature.
    const [h, p, sig] = mintToken({ secret, room, identity: 'eve' }).split('.');
    const forged = Buffer.from(JSON.stringify({ ...b64json(p), sub: 'ada', role: 'dispatcher' })).toString('base64url');
    await refused(`${h}.${forged}.${sig}`, 'unauthorized');
    await refused(mintToken({ secret: 'another-key-another-key-another!', room, identity: 'eve' }), 'unauthorized');
    await refused(mintToken({ secret, room, identity: 'eve', ttlSeconds: 60, now: Date.now() - 3600e3 }), 'token-expired');
    await refused(mintToken({ secret, room: 'elsewhere', identity: 'eve' }), 'unauthorized');
    await refused(undefined, 'unauthorized');
    await a.nothing('peer-joined', 100);
    const wc = await c.join(room, 'C', { token: mintToken({ secret, room: '*', identity: 'eve' }) });
    assert.deepEqual(wc.peers.map((x) => [x.identity, x.role]), [['ada', 'dispatcher']]);
  });

  test('every welcome carries TURN REST credentials that coturn would accept', async () => {
    const room = freshRoom();
    const a = await connect(origin);
    const w = await a.join(room, 'A', { token: mintToken({ secret, room, identity: 'ada' }) });
    const turn = w.iceServers.at(-1);
    const urls = [turn.urls].flat();
    assert.deepEqual(urls, ['turn:10.77.0.1:3478?transport=udp']);
    const [expiry, user] = turn.username.split(':');
    assert.equal(user, w.peerId);
    assert.ok(Math.abs(Number(expiry) - (Date.now() / 1000 + 600)) < 30, `expiry ${expiry}`);
    assert.equal(turn.credential, createHmac('sha1', turnSecret).update(turn.username).digest('base64'));
  });

  test('a socket from an origin not on the list is refused', async () => {
    const bad = await connect({ origin: 'https://evil.example' });
    const err = await bad.next('error');
    assert.equal(err.code, 'origin-not-allowed');
    assert.equal((await bad.waitClose()).code, 1008);
  });
});

/** Runs a node script to completion: { code, out, err }. `env` is added to a clean CHORUS_* env. */
function run(script, args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv(env) });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

/** process.env without any CHORUS_* variable of the caller's, plus `extra`. */
function cleanEnv(extra) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHORUS_')));
  return { ...env, ...extra };
}

// ---- the CLI as a process ----------------------------------------------------------------------

describe('chorus-rtc-server configured by its environment', () => {
  test('answers /healthz, logs JSON lines, and drains with 1012 on SIGTERM', async () => {
    const ice = [{ urls: 'stun:stun.invalid:3478' }];
    const proc = spawn(process.execPath, [CLI], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: cleanEnv({
        CHORUS_PORT: '0', CHORUS_HOST: HOST, CHORUS_LOG_LEVEL: 'info', CHORUS_ICE_SERVERS: JSON.stringify(ice),
        CHORUS_MAX_PEERS: '1', CHORUS_SHUTDOWN_TIMEOUT_MS: '5000',
      }),
    });
    let out = '';
    let err = '';
    proc.stderr.on('data', (d) => { err += d; });
    const exited = new Promise((r) => proc.on('exit', (code) => r(code)));
    const events = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    try {
      const url = await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no listening line; stderr: ${err}`)), 10000);
        proc.stdout.on('data', (d) => {
          out += d;
          const listening = events().find((e) => e.url);
          if (listening) { clearTimeout(t); resolve(listening.url); }
        });
      });
      const [first] = events();
      assert.equal(first.level, 'info');
      assert.equal(first.pid, proc.pid);
      assert.ok(!Number.isNaN(Date.parse(first.time)));

      const h = await fetch(new URL('/healthz', url));
      assert.equal(h.status, 200);
      assert.equal((await h.json()).status, 'ok');

      const a = await TestClient.connect(url.replace('http:', 'ws:'));
      const room = freshRoom();
      assert.deepEqual((await a.join(room, 'A')).iceServers, ice, 'CHORUS_ICE_SERVERS reached the core');
      const b = await TestClient.connect(url.replace('http:', 'ws:'));
      b.send({ type: 'join', v: 1, room, name: 'B' });
      assert.equal((await b.next('error')).code, 'room-full', 'CHORUS_MAX_PEERS reached the core');

      proc.kill('SIGTERM');
      assert.equal((await a.waitClose(5000)).code, 1012);
      assert.equal(await exited, 0, `exit code; stderr: ${err}`);
      const msgs = events().map((e) => e.msg);
      assert.ok(msgs.some((m) => /SIGTERM/.test(m)), msgs.join('\n'));
      assert.equal(msgs.at(-1), 'stopped');
      assert.equal(err, '', 'nothing on stderr');
    } finally {
      proc.kill('SIGKILL');
    }
  });

  test('bad environment values stop it with exit code 2 and usage', async () => {
    for (const env of [{ CHORUS_PORT: 'eighty' }, { CHORUS_LOG_FORMAT: 'xml' }, { CHORUS_REQUIRE_AUTH: '1' }]) {
      const r = await run(CLI, [], env);
      assert.equal(r.code, 2, JSON.stringify(env));
      assert.match(r.err, new RegExp(Object.keys(env)[0]));
      assert.match(r.err, /Usage:/);
    }
  });
});
