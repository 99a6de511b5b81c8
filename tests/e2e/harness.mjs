// End-to-end harness: Debian's Chromium (through playwright-core) + the chorus signaling server.
//
// Run the tests through tools/netns-run.sh so that the only non-loopback address on the machine
// is the test's own veth (CHORUS_TEST_HOST=10.77.0.1): Chromium gathers ICE candidates on
// interface addresses, never on 127.0.0.1.
//
// What it offers:
//   - launchBrowser({ origins })     one Chromium process with fake camera/mic and the origins
//                                    treated as secure (getUserMedia on plain http)
//   - startTestServer()              tools/server/server.mjs in-process, port 0 on HOST
//   - startServerProcess({ port })   node tools/server/cli.mjs as a child (can be SIGKILLed)
//   - Env: openPeer({ room, name, path, query }) -> Peer (own browser context, own page)
//   - Peer: waitJoined(), videoStats(), waitDecodingFrom(n), events(), waitEvent(...), close()
//   - waitUntil(fn, { timeout, message }): polling with a failure message that shows the last
//     value seen, so a timeout says what the page looked like, not only that it timed out.
//
// Every page gets an init script (PAGE_INSTRUMENTATION below) that records, before any page
// script runs: every RTCPeerConnection created, and every event the library dispatches from
// JavaScript (peerjoined, peerleft, track, message, statechange, peerstatechange, error, topology,
// mediaserver, mediapath, layer, mix).

import { freePort as freePortOn } from '../../tools/lib/private-process.mjs';
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const HOST = process.env.CHORUS_TEST_HOST || '127.0.0.1';
export const CHROMIUM = process.env.CHORUS_CHROMIUM || '/usr/lib/chromium/chromium';
/** Multiplies every timeout (slow machines: CHORUS_E2E_SLOW=2). */
export const SLOW = Number(process.env.CHORUS_E2E_SLOW || 1);

if (!process.env.CHORUS_NETNS && !process.env.CHORUS_E2E_QUIET) {
  process.stderr.write('e2e harness: not inside tools/netns-run.sh; ICE may use host interfaces\n');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() until it returns a truthy value; returns that value. On timeout throws an Error
 *  with `message` plus the last value (or exception) fn produced. */
export async function waitUntil(fn, { timeout = 15000, interval = 150, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout * SLOW;
  let last, lastErr;
  for (;;) {
    try {
      last = await fn();
      lastErr = undefined;
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      const seen = lastErr ? `last error: ${lastErr.stack || lastErr}` : `last value: ${fmt(last)}`;
      throw new Error(`timed out after ${timeout * SLOW} ms waiting for ${message}; ${seen}`);
    }
    await sleep(interval);
  }
}

export function fmt(v) {
  try {
    const s = JSON.stringify(v);
    return s && s.length > 2000 ? s.slice(0, 2000) + '…' : s;
  } catch {
    return String(v);
  }
}

/** Rejects with a clear message if `promise` does not settle within ms. */
export function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, rej) => {
      t = setTimeout(() => rej(new Error(`timed out after ${ms * SLOW} ms: ${what}`)), ms * SLOW);
    }),
  ]).finally(() => clearTimeout(t));
}

/** A TCP port that was free on host a moment ago. */
export const freePort = (host = HOST) => freePortOn(host);

function canConnect(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------------------------------------
// Signaling server

/** Starts tools/server/server.mjs in this process on HOST, port 0 (or `port`). */
export async function startTestServer({ port = 0, host = HOST, config } = {}) {
  const { startServer } = await import(path.join(ROOT, 'tools/server/server.mjs'));
  const srv = await startServer({ port, host, ...(config ? { config } : {}),
    ...(process.env.CHORUS_E2E_VERBOSE ? {} : { logger: null }) });
  const origin = `http://${host}:${srv.port}`;
  return { ...srv, origin, url: srv.url || origin };
}

/** Starts `node tools/server/cli.mjs --port P --host H` as a child process and waits until it
 *  accepts TCP connections. kill() sends SIGKILL by default and waits for the exit. */
export async function startServerProcess({ port, host = HOST, args = [] } = {}) {
  if (!port) throw new Error('startServerProcess needs a fixed port (it is restarted on it)');
  const proc = spawn(process.execPath, [path.join(ROOT, 'tools/server/cli.mjs'),
    '--port', String(port), '--host', host, ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let dead = false;
  exited.then(() => { dead = true; });
  liveChildren.add(proc);
  exited.then(() => liveChildren.delete(proc));
  await waitUntil(async () => {
    if (dead) throw new Error(`server process exited early: ${output}`);
    return canConnect(host, port);
  }, { timeout: 10000, interval: 50, message: `server process listening on ${host}:${port}` })
    .catch((e) => { proc.kill('SIGKILL'); throw new Error(`${e.message}\nserver output:\n${output}`); });
  return {
    proc, port, host, origin: `http://${host}:${port}`, exited,
    output: () => output,
    async kill(signal = 'SIGKILL') {
      if (!dead) proc.kill(signal);
      return exited;
    },
  };
}

const liveChildren = new Set();
process.on('exit', () => { for (const p of liveChildren) try { p.kill('SIGKILL'); } catch {} });

// ---------------------------------------------------------------------------------------------
// Browser

/** `routedPages`: the browser will show pages that Playwright fulfils from disk (serveFromDisk).
 *  Such a response has no IP address, so Chromium's Local Network Access checks count the page
 *  as public and block its WebSocket to the private test address (net::ERR_BLOCKED_BY_LOCAL_
 *  NETWORK_ACCESS_CHECKS). Pages the server itself serves are private-to-private and pass; only
 *  then are the checks left on. */
export function chromiumArgs(origins = [], { routedPages = false } = {}) {
  const disabled = ['WebRtcHideLocalIpsWithMdns', ...(routedPages ? ['LocalNetworkAccessChecks'] : [])];
  return [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    `--disable-features=${disabled.join(',')}`,
    ...(origins.length ? [`--unsafely-treat-insecure-origin-as-secure=${origins.join(',')}`] : []),
  ];
}

/** One Chromium process. `origins`: http origins that may use getUserMedia. `executablePath`:
 *  another Chromium binary or a wrapper script that execs it (e.g. inside a network namespace,
 *  tests/e2e/shaped-net.mjs). */
export async function launchBrowser({ origins = [], extraArgs = [], routedPages = false, executablePath = CHROMIUM } = {}) {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...chromiumArgs(origins, { routedPages }), ...extraArgs],
    timeout: 30000 * SLOW,
  });
}

// Runs in every page before its own scripts. Keep it dependency-free and self-contained.
export const PAGE_INSTRUMENTATION = `(() => {
  if (window.__t) return;
  const t = window.__t = { pcs: [], events: [], t0: performance.now() };
  const Native = window.RTCPeerConnection;
  if (Native) {
    // Every pc is recorded with a log of its description calls, so tests can see
    // negotiation (e.g. a glare: an offer applied while we had our own offer out).
    const Wrapped = function RTCPeerConnection(...args) {
      const pc = new Native(...args);
      const rec = { pc, created: performance.now(), sdp: [] };
      t.pcs.push(rec);
      for (const op of ['setLocalDescription', 'setRemoteDescription']) {
        const orig = pc[op];
        pc[op] = function (desc) {
          rec.sdp.push({ op, type: (desc && desc.type) || 'implicit', state: pc.signalingState, t: performance.now() });
          return orig.apply(this, arguments);
        };
      }
      rec.channels = [];
      const createDataChannel = pc.createDataChannel;
      pc.createDataChannel = function () {
        const dc = createDataChannel.apply(this, arguments);
        rec.channels.push(dc);
        return dc;
      };
      pc.addEventListener('datachannel', (e) => rec.channels.push(e.channel));
      return pc;
    };
    Wrapped.prototype = Native.prototype;
    Object.setPrototypeOf(Wrapped, Native);
    window.RTCPeerConnection = Wrapped;
  }
  const WANTED = new Set(['peerjoined', 'peerleft', 'track', 'message', 'statechange',
    'peerstatechange', 'error', 'joined', 'left', 'topology', 'mediaserver', 'mediapath', 'layer', 'mix']);
  const plain = (v, depth = 0) => {
    if (v === null || v === undefined) return v;
    const ty = typeof v;
    if (ty === 'string') return v.length > 500 ? v.slice(0, 500) : v;
    if (ty === 'number' || ty === 'boolean') return v;
    if (ty !== 'object' || depth > 2) return undefined;
    if (v instanceof MediaStreamTrack) return { kind: v.kind, id: v.id, readyState: v.readyState };
    if (v instanceof MediaStream) return { stream: v.id, tracks: v.getTracks().length };
    if (v instanceof ArrayBuffer) return { bytes: v.byteLength };
    if (ArrayBuffer.isView(v)) return { bytes: v.byteLength };
    if (v instanceof Error) return { error: String(v), name: v.name, code: v.code };
    if (typeof RTCPeerConnection !== 'undefined' && v instanceof RTCPeerConnection) return '[pc]';
    if (Array.isArray(v)) return v.slice(0, 20).map((x) => plain(x, depth + 1));
    if (v instanceof Map) return Object.fromEntries([...v].slice(0, 20).map(([k, x]) => [String(k), plain(x, depth + 1)]));
    const out = {};
    for (const k of Object.keys(v).slice(0, 30)) {
      if (typeof v[k] === 'function') continue;
      out[k] = plain(v[k], depth + 1);
    }
    return out;
  };
  t.record = (target, ev) => {
    const rec = { type: ev.type, t: performance.now() };
    if ('detail' in ev) rec.detail = plain(ev.detail);
    for (const k of ['peerId', 'peer', 'from', 'data', 'state', 'reason', 'code', 'message', 'track', 'streams', 'kind', 'mode', 'layer']) {
      if (k in ev && !(k in Event.prototype)) rec[k] = plain(ev[k]);
    }
    t.events.push(rec);
    if (t.events.length > 5000) t.events.splice(0, 1000);
  };
  const dispatch = EventTarget.prototype.dispatchEvent;
  EventTarget.prototype.dispatchEvent = function (ev) {
    try {
      if (ev && WANTED.has(ev.type) && !(this instanceof Node) && this !== window) t.record(this, ev);
    } catch {}
    return dispatch.call(this, ev);
  };
  // Test hook: hold outgoing signaling offers for \`ms\` before they reach the socket (a slow
  // signaling path), so that two peers renegotiating at once are sure to cross their offers.
  t.delayOffers = (ms) => {
    const send = WebSocket.prototype.send;
    t.delayedOffers = 0;
    WebSocket.prototype.send = function (data) {
      let msg = null;
      try { msg = typeof data === 'string' && data.includes('"offer"') ? JSON.parse(data) : null; } catch {}
      if (msg && msg.type === 'signal' && msg.kind === 'offer' && ms > 0) {
        t.delayedOffers++;
        setTimeout(() => { if (this.readyState === 1) send.call(this, data); }, ms);
        return;
      }
      return send.call(this, data);
    };
  };
  t.room = () => (window.chorus && window.chorus.room) || null;
  // [{peerId|null, pc}] for the live peer connections, using the room's peers when they expose
  // their RTCPeerConnection, else the ones this script saw being created.
  t.livePcs = () => {
    const room = t.room();
    const out = [];
    const seen = new Set();
    const peers = room && room.peers;
    const list = !peers ? [] : peers instanceof Map ? [...peers].map(([k, p]) => [k, p])
      : Array.isArray(peers) ? peers.map((p) => [p && p.id, p])
      : Object.entries(peers);
    for (const [k, p] of list) {
      const id = (p && (p.id || p.peerId)) || k;
      const pc = (room.getPeerConnection && room.getPeerConnection(id)) || (p && (p.pc || p.peerConnection));
      if (pc && pc.connectionState !== 'closed') {
        out.push({ peerId: id, pc });
        seen.add(pc);
      }
    }
    if (!out.length) {
      for (const { pc } of t.pcs) {
        if (pc.connectionState !== 'closed' && !seen.has(pc)) out.push({ peerId: null, pc });
      }
    }
    return out;
  };
  // Live peer connections whose every DataChannel is open (and that have at least one).
  t.openChannels = () => t.livePcs().filter(({ pc }) => {
    const rec = t.pcs.find((r) => r.pc === pc);
    return rec && rec.channels.length > 0 && rec.channels.every((dc) => dc.readyState === 'open');
  }).length;
  // Per live peer connection: video frames decoded / received, audio packets, connection state.
  t.videoStats = async () => {
    const res = [];
    for (const { peerId, pc } of t.livePcs()) {
      const row = { peerId, connectionState: pc.connectionState, framesDecoded: 0,
        framesReceived: 0, videoInbound: 0, audioPackets: 0, frameWidth: 0 };
      try {
        const report = await pc.getStats();
        report.forEach((s) => {
          if (s.type !== 'inbound-rtp') return;
          if (s.kind === 'video') {
            row.videoInbound++;
            row.framesDecoded += s.framesDecoded || 0;
            row.framesReceived += s.framesReceived || 0;
            row.frameWidth = Math.max(row.frameWidth, s.frameWidth || 0);
          } else if (s.kind === 'audio') {
            row.audioPackets += s.packetsReceived || 0;
          }
        });
      } catch (e) { row.error = String(e); }
      res.push(row);
    }
    return res;
  };
})();`;

// ---------------------------------------------------------------------------------------------
// Test environment: one browser, many peers, one cleanup.

export class Env {
  /** @param {{origins?: string[], server?: 'inprocess'|'none', extraArgs?: string[],
   *            routedPages?: boolean, executablePath?: string}} o  routedPages: pages will come
   *            from serveFromDisk(); executablePath: see launchBrowser */
  static async create({ server = 'inprocess', origins = [], extraArgs = [], routedPages = false, executablePath } = {}) {
    const env = new Env();
    try {
      if (server === 'inprocess') {
        env.server = await startTestServer();
        env.origin = env.server.origin;
      }
      env.browser = await launchBrowser({
        origins: [...(env.origin ? [env.origin] : []), ...origins], extraArgs, routedPages,
        ...(executablePath ? { executablePath } : {}),
      });
    } catch (e) {
      await env.close();
      throw e;
    }
    return env;
  }

  constructor() {
    this.peers = [];
    this.allPeers = [];
    this.server = null;
    this.browser = null;
    this.origin = null;
    this.routes = []; // [{prefix, dir}] served from disk on every context
  }

  /** Serves the files of `dir` (relative to the repo) at `${origin}${prefix}` for pages opened
   *  afterwards, through Playwright's request interception (no extra server needed). */
  serveFromDisk(prefix, dir) {
    this.routes.push({ prefix, dir: path.resolve(ROOT, dir) });
  }

  /** Opens a page in a fresh browser context (own storage, own fake devices) at
   *  `${origin}${path}?room=..&name=..&autojoin=1&...`. */
  async openPeer({ room, name, path: p = '/', query = {}, autojoin = true, origin = this.origin } = {}) {
    const context = await this.browser.newContext({ viewport: { width: 640, height: 480 } });
    await context.addInitScript({ content: PAGE_INSTRUMENTATION });
    for (const { prefix, dir } of this.routes) {
      await context.route(`${origin}${prefix}**`, (route) => fulfillFromDisk(route, origin + prefix, dir));
    }
    const page = await context.newPage();
    const peer = new Peer(this, context, page, name);
    this.peers.push(peer);
    this.allPeers.push(peer);
    page.on('console', (m) => {
      peer.console.push(`[${m.type()}] ${m.text()}`);
      if (peer.console.length > 400) peer.console.shift();
      if (process.env.CHORUS_E2E_VERBOSE) process.stderr.write(`  [${name}] ${m.text()}\n`);
    });
    page.on('pageerror', (e) => {
      peer.pageErrors.push(String(e.stack || e));
      if (process.env.CHORUS_E2E_VERBOSE) process.stderr.write(`  [${name}] pageerror ${e}\n`);
    });
    const q = new URLSearchParams({ ...(room != null ? { room } : {}), ...(name != null ? { name } : {}),
      ...(autojoin ? { autojoin: '1' } : {}), ...query });
    peer.url = `${origin}${p}${q.size ? (p.includes('?') ? '&' : '?') + q : ''}`;
    await page.goto(peer.url, { timeout: 20000 * SLOW, waitUntil: 'domcontentloaded' });
    return peer;
  }

  /** Uncaught exceptions / unhandled rejections of every page opened so far (still open or
   *  not), as "name: error" strings. A passing case should have none. */
  /** Ends a case: no page threw (asserted), and what the library warned about is shown. */
  checkPages(ctx) {
    for (const w of this.libraryWarnings()) ctx.diagnostic(`library warning: ${w}`);
    if (this.pageErrors().length) {
      throw new Error(`uncaught errors in the pages: ${JSON.stringify(this.pageErrors())}`);
    }
  }

  pageErrors() {
    return this.allPeers.flatMap((p) => p.pageErrors.map((e) => `${p.name}: ${e.split('\n')[0]}`));
  }

  /** Console warnings/errors the library printed (lines starting with "chorus"). */
  libraryWarnings() {
    return this.allPeers.flatMap((p) => p.console.filter((l) => /^\[(warning|error)\] chorus/.test(l))
      .map((l) => `${p.name}: ${l}`));
  }

  /** Closes every open peer (their pages and contexts); the browser stays up. */
  async closePeers() {
    const peers = this.peers;
    this.peers = [];
    await Promise.all(peers.map((p) => p.close().catch(() => {})));
  }

  async close() {
    const errs = [];
    for (const p of this.peers) await p.close().catch((e) => errs.push(e));
    this.peers = [];
    if (this.browser) await withTimeout(this.browser.close(), 10000, 'browser.close').catch((e) => {
      errs.push(e);
      try { this.browser.process?.()?.kill('SIGKILL'); } catch {}
    });
    this.browser = null;
    if (this.server) await withTimeout(Promise.resolve(this.server.close()), 5000, 'server.close')
      .catch((e) => errs.push(e));
    this.server = null;
    return errs;
  }
}

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml' };

export async function fulfillFromDisk(route, base, dir) {
  const url = new URL(route.request().url());
  let rel = decodeURIComponent(url.href.slice(base.length).split(/[?#]/)[0]);
  if (rel === '' || rel.endsWith('/')) rel += 'index.html';
  const file = path.resolve(dir, rel);
  if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    return route.fulfill({ status: 404, body: 'not found' });
  }
  return route.fulfill({
    status: 200, body: fs.readFileSync(file),
    headers: { 'content-type': MIME[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' },
  });
}

export class Peer {
  constructor(env, context, page, name) {
    Object.assign(this, { env, context, page, name, console: [], pageErrors: [], closed: false });
  }

  evaluate(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  /** Diagnostic text for failure messages. */
  async describe() {
    const info = await this.page.evaluate(() => {
      const room = window.__t.room();
      return {
        state: room && room.state, peerId: room && (room.peerId ?? room.id),
        peers: room && room.peers ? (room.peers instanceof Map ? [...room.peers.keys()]
          : Array.isArray(room.peers) ? room.peers.map((p) => p.id) : Object.keys(room.peers)) : null,
        pcs: window.__t.pcs.map(({ pc }) => `${pc.connectionState}/${pc.signalingState}`),
        events: window.__t.events.slice(-15).map((e) => e.type + (e.state ? ':' + e.state : '')),
      };
    }).catch((e) => ({ evalError: String(e) }));
    return `${this.name}: ${fmt(info)}; page errors: ${fmt(this.pageErrors.slice(-3))}; console tail: ${fmt(this.console.slice(-8))}`;
  }

  /** Waits until window.chorus.room exists and its state is 'joined'. Returns {peerId, state}. */
  async waitJoined(timeout = 20000) {
    try {
      return await waitUntil(() => this.page.evaluate(() => {
        const room = window.__t.room();
        if (!room) return null;
        return room.state === 'joined' ? { peerId: room.peerId ?? room.id ?? null, state: room.state } : null;
      }), { timeout, message: `${this.name}: window.chorus.room in state 'joined'` });
    } catch (e) {
      e.message += `\n${await this.describe()}`;
      throw e;
    }
  }

  roomState() {
    return this.page.evaluate(() => window.__t.room()?.state ?? null);
  }

  peerId() {
    return this.page.evaluate(() => { const r = window.__t.room(); return r ? (r.peerId ?? r.id ?? null) : null; });
  }

  /** Ids of the remote peers the room knows. */
  remotePeerIds() {
    return this.page.evaluate(() => {
      const peers = window.__t.room()?.peers;
      if (!peers) return [];
      if (peers instanceof Map) return [...peers.keys()];
      if (Array.isArray(peers)) return peers.map((p) => p.id);
      return Object.keys(peers);
    });
  }

  videoStats() {
    return this.page.evaluate(() => window.__t.videoStats());
  }

  /** Per peer connection ever created: its description calls [{op, type, state}] in order. */
  sdpLog() {
    return this.page.evaluate(() => window.__t.pcs.map((r) => ({
      connectionState: r.pc.connectionState, sdp: r.sdp })));
  }

  /** room.send(data, options) in the page. */
  send(data, options) {
    return this.page.evaluate(([d, o]) => window.__t.room().send(d, o), [data, options]);
  }

  /** Texts of the 'message' events received so far: [{from, data}]. */
  async messages() {
    return (await this.events('message')).map((e) => ({
      from: e.from ?? e.peerId ?? e.peer?.id ?? e.detail?.from ?? null,
      data: e.data ?? e.detail?.data,
    }));
  }

  events(type) {
    return this.page.evaluate((type) => window.__t.events.filter((e) => !type || e.type === type), type);
  }

  /** Waits for a recorded event of `type` for which `pred(event)` (run in Node) is true. */
  async waitEvent(type, pred = () => true, { timeout = 10000, message } = {}) {
    try {
      return await waitUntil(async () => (await this.events(type)).find(pred),
        { timeout, message: message || `${this.name}: event '${type}'` });
    } catch (e) {
      e.message += `\n${await this.describe()}`;
      throw e;
    }
  }

  /** Waits until `count` live peer connections have their DataChannels open. */
  async waitChannelsOpen(count, { timeout = 15000 } = {}) {
    try {
      await waitUntil(async () => (await this.page.evaluate(() => window.__t.openChannels())) >= count,
        { timeout, message: `${this.name}: DataChannels open to ${count} peer(s)` });
    } catch (e) {
      e.message += `\n${await this.describe()}`;
      throw e;
    }
  }

  /** Waits until this page decodes video from `count` live peer connections (framesDecoded > 0
   *  on each), then until each has decoded more frames than at the first sample (still flowing).
   *  Returns the last stats rows. */
  async waitDecodingFrom(count, { timeout = 20000 } = {}) {
    let first;
    try {
      first = await waitUntil(async () => {
        const rows = await this.videoStats();
        const live = rows.filter((r) => r.framesDecoded > 0);
        return live.length >= count ? rows : null;
      }, { timeout, message: `${this.name}: video decoded from ${count} peer(s)` });
      const base = new Map(first.map((r, i) => [r.peerId ?? i, r.framesDecoded]));
      return await waitUntil(async () => {
        const rows = await this.videoStats();
        const growing = rows.filter((r, i) => r.framesDecoded > (base.get(r.peerId ?? i) ?? 0));
        return growing.length >= count ? rows : null;
      }, { timeout: 5000, message: `${this.name}: framesDecoded increasing on ${count} peer connection(s)` });
    } catch (e) {
      e.message += `\n${await this.describe()}\nstats: ${fmt(await this.videoStats().catch(() => null))}`;
      throw e;
    }
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await withTimeout(this.context.close(), 10000, `close context of ${this.name}`).catch(() => {});
  }
}
