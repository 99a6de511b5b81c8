#!/usr/bin/env node
// Starts Debian's Janus (/usr/bin/janus, 1.1.2) as a private foreground process for tests and
// development: the SFU (VideoRoom) and audio MCU (AudioBridge) of chorus-rtc topologies.
//
// Everything Janus reads or writes lives in one folder of its own (a fresh temp dir unless `dir`
// is given): janus.jcfg, janus.transport.websockets.jcfg, janus.plugin.videoroom.jcfg and
// janus.plugin.audiobridge.jcfg (written from templates below), plugins/ and transports/ holding
// symlinks to only the three .so files we need (VideoRoom, AudioBridge, WebSockets; Debian's
// folder also has SIP, Streaming, HTTP, MQTT, ... which would all load otherwise), empty
// events/ and loggers/ folders, the DTLS certificate Janus generates at start, and its log.
// Nothing under /etc/janus is read; the distribution's own janus service is never used.
//
// Janus gathers ICE candidates only on `address` (nat.ice_enforce_list); it never gathers on
// loopback, so for media give it a non-loopback address (tools/netns-run.sh: 10.77.0.1). Its
// WebSocket API (subprotocol `janus-protocol`) listens on `address`:`wsPort`. As root, Janus runs
// as nobody (setpriv) and the folder is handed to that user.
//
//   import { startJanus } from './tools/janus/janus.mjs';
//   const janus = await startJanus({ address: '10.77.0.1', wsPort: 8188 });
//   janus.wsUrl   // 'ws://10.77.0.1:8188'
//   await janus.stop();
//
// CLI (developers): node tools/janus/janus.mjs --address A [--ws-port 8188] [--dir D]
//   [--admin-key K] [--session-timeout S] [--rtp-ports MIN-MAX] [--admin-port P] [--verbose]
//   runs until Ctrl-C.   (tools/janus/README.md)

import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { freePort, serveUntilSignal, startPrivate } from '../lib/private-process.mjs';

export { freePort };

export const JANUS = process.env.CHORUS_JANUS || '/usr/bin/janus';
export const JANUS_LIB = process.env.CHORUS_JANUS_LIB || '/usr/lib/x86_64-linux-gnu/janus';

/** The .so files chorus needs, by folder; nothing else is loaded. */
export const JANUS_MODULES = {
  plugins: ['libjanus_videoroom.so', 'libjanus_audiobridge.so'],
  transports: ['libjanus_websockets.so'],
};

/**
 * What a chorus client should put in a VideoRoom `create` request (rooms made on demand).
 * Janus has no plugin-wide default for these: they are per room, either in the request or in a
 * static room of the config file. `bitrate` is the REMB cap Janus sends publishers: the stock
 * demo room's 128 kbps starves simulcast (three layers of a 640x480 camera ask for over 1 Mbit/s);
 * 0 (the API default) means "no cap". `fir_freq`: a keyframe request every 10 s, so a
 * subscriber that lost one recovers even without a PLI.
 */
export const VIDEOROOM_ROOM_DEFAULTS = Object.freeze({
  publishers: 16,
  bitrate: 3_000_000,
  fir_freq: 10,
  audiocodec: 'opus',
  videocodec: 'vp8',
  record: false,
});

/**
 * What a chorus client should put in an AudioBridge `create` request. `default_prebuffering`
 * 2 (Janus default 6): tone-to-onset through the mixer ~95 ms instead of ~218 ms
 * (../shared/FIELD-NOTES.md). 48 kHz: fullband Opus mix.
 */
export const AUDIOBRIDGE_ROOM_DEFAULTS = Object.freeze({
  sampling_rate: 48000,
  default_prebuffering: 2,
  audiolevel_event: false,
  record: false,
});

const isLoopback = (a) => a === '::1' || /^127\./.test(a);
const hostPart = (a) => (net.isIPv6(a) ? `[${a}]` : a);

function checkPort(name, v) {
  if (!Number.isInteger(v) || v < 1 || v > 65535) throw new RangeError(`${name} must be a port number (1..65535)`);
  return v;
}

/** jcfg (libconfig) string literal. Refuses what cannot be written safely. */
function str(name, v) {
  const s = String(v);
  if (/["\\\n\r]/.test(s)) throw new TypeError(`${name} must not contain quotes, backslashes or newlines`);
  return `"${s}"`;
}

/** A jcfg value from a JS value: strings quoted, numbers and booleans as is, arrays of those. */
function jcfgValue(name, v) {
  if (typeof v === 'string') return str(name, v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return `[ ${v.map((x) => jcfgValue(name, x)).join(', ')} ]`;
  throw new TypeError(`${name}: unsupported config value ${JSON.stringify(v)}`);
}

/** One jcfg section: `name: { key = value ... }`. Undefined values are left out. */
function section(name, items) {
  const lines = Object.entries(items).filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TypeError(`bad config key ${k}`);
      return `\t${k} = ${jcfgValue(k, v)}`;
    });
  return `${name}: {\n${lines.join('\n')}${lines.length ? '\n' : ''}}\n`;
}

/** Static rooms (config file): `room-<id>` sections from [{ room, ...settings }]. */
function roomSections(rooms, defaults, plugin) {
  return (rooms ?? []).map((r) => {
    const { room, ...settings } = r ?? {};
    if (!(Number.isInteger(room) && room > 0) && !(typeof room === 'string' && /^[A-Za-z0-9_-]+$/.test(room))) {
      throw new TypeError(`${plugin}.rooms[].room must be a positive integer (or a [A-Za-z0-9_-] string with stringIds)`);
    }
    return section(`room-${room}`, { ...defaults, ...settings });
  }).join('');
}

/** The config files, by name. Exported for the unit test of the launcher and for the README. */
export function janusConfigFiles({
  address, wsPort, dir, sessionTimeoutS = 60, debugLevel = 4, rtpPorts,
  videoroom = {}, audiobridge = {}, adminKey, admin, serverName = 'chorus-janus',
}) {
  const folder = (n) => path.join(dir, n);
  const files = {};
  files['janus.jcfg'] = [
    '# Written by tools/janus/janus.mjs; a private Janus for chorus-rtc. Do not edit: regenerated at every start.',
    section('general', {
      configs_folder: dir,
      plugins_folder: folder('plugins'),
      transports_folder: folder('transports'),
      events_folder: folder('events'),
      loggers_folder: folder('loggers'),
      log_to_stdout: false,
      log_to_file: folder('janus.log'),
      debug_level: debugLevel,
      debug_timestamps: true,
      debug_colors: false,
      server_name: serverName,
      session_timeout: sessionTimeoutS,
      reclaim_session_timeout: 0,
      // The Admin API needs admin_secret; without `admin` there is none and no admin transport.
      admin_secret: admin ? admin.secret : undefined,
      interface: address,
      protected_folders: ['/bin', '/boot', '/dev', '/etc', '/initrd', '/lib', '/lib32', '/lib64',
        '/proc', '/sbin', '/sys', '/usr', '/var'],
    }),
    section('certificates', {}), // none: Janus generates a self-signed DTLS certificate at start
    section('media', {
      rtp_port_range: rtpPorts ? `${rtpPorts[0]}-${rtpPorts[1]}` : undefined,
    }),
    section('nat', {
      nice_debug: false,
      ice_enforce_list: address, // the only address Janus gathers ICE candidates on
      ignore_mdns: true,
    }),
    section('plugins', {}),
    section('transports', {}),
    section('loggers', {}),
    section('events', { broadcast: false }),
  ].join('\n');
  files['janus.transport.websockets.jcfg'] = [
    '# Janus API over WebSocket only (no HTTP transport, no secure WebSocket).',
    section('general', {
      events: false,
      json: 'compact',
      ws: true,
      ws_port: wsPort,
      ws_ip: address,
      wss: false,
    }),
    section('admin', {
      admin_ws: !!admin,
      admin_ws_port: admin ? admin.port : undefined,
      admin_ws_ip: admin ? address : undefined,
      admin_wss: false,
    }),
  ].join('\n');
  const plugin = (opts, defaults, name, extraGeneral = {}) => [
    `# Rooms may be created on demand by clients (create request)${(opts.adminKey ?? adminKey) ? ' that carry admin_key' : ''}.`,
    section('general', {
      admin_key: opts.adminKey ?? adminKey,
      string_ids: opts.stringIds ? true : undefined,
      events: false, // no event handlers are loaded anyway
      ...extraGeneral,
    }),
    roomSections(opts.rooms, defaults, name),
  ].join('\n');
  files['janus.plugin.videoroom.jcfg'] = plugin(videoroom, VIDEOROOM_ROOM_DEFAULTS, 'videoroom');
  files['janus.plugin.audiobridge.jcfg'] = plugin(audiobridge, AUDIOBRIDGE_ROOM_DEFAULTS, 'audiobridge',
    // Plain-RTP participants are not used; keep any port it might bind inside our range.
    rtpPorts ? { rtp_port_range: `${rtpPorts[0]}-${rtpPorts[1]}` } : {});
  return files;
}

/** Whether nothing listens on host:port. Needed before every start: Janus's libwebsockets listens
 *  with SO_REUSEPORT, so a second Janus on a port a first one holds starts "fine" and the kernel
 *  then spreads connections over both. (A port held by anything else makes Janus exit 1.) */
export function portIsFree(host, port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * One Janus API request over a fresh WebSocket; resolves with the reply (same transaction) or
 * null when nothing answered within timeoutMs.
 */
export function janusRequest(wsUrl, request, { timeoutMs = 1000 } = {}) {
  return new Promise((resolve) => {
    const transaction = request.transaction ?? crypto.randomBytes(6).toString('hex');
    let ws;
    const done = (v) => { clearTimeout(timer); try { ws.terminate(); } catch {} resolve(v); };
    const timer = setTimeout(() => done(null), timeoutMs);
    try {
      ws = new WebSocket(wsUrl, 'janus-protocol', { handshakeTimeout: timeoutMs });
    } catch {
      done(null);
      return;
    }
    ws.on('error', () => done(null));
    ws.on('open', () => ws.send(JSON.stringify({ ...request, transaction })));
    ws.on('message', (d) => {
      let m;
      try { m = JSON.parse(String(d)); } catch { return; }
      if (m.transaction === transaction) done(m);
    });
  });
}

/**
 * Starts Janus and resolves once its WebSocket answers an `info` request.
 * @param {object} o
 * @param {string} o.address   IP for ICE candidates, the SDP and the WebSocket listener
 *                             (the test namespace's veth; 127.0.0.1 is fine for signaling only)
 * @param {number} [o.wsPort]  Janus API WebSocket port (default: a free one)
 * @param {string} [o.dir]     folder for config, module links, certificate and log (default: a
 *                             fresh temp dir, removed by stop())
 * @param {{adminKey?: string, stringIds?: boolean, rooms?: object[]}} [o.videoroom]
 *        adminKey: `create` requests must carry it (default: none, anyone may create rooms);
 *        stringIds: string room/participant ids; rooms: static rooms [{room, ...settings}]
 *        (VIDEOROOM_ROOM_DEFAULTS filled in)
 * @param {{adminKey?: string, stringIds?: boolean, rooms?: object[]}} [o.audiobridge]  likewise
 *        (AUDIOBRIDGE_ROOM_DEFAULTS filled in)
 * @param {string|true} [o.adminKey]  one admin_key for both plugins (true: a random one); returned
 * @param {{port: number, secret?: string}} [o.admin]  enable the Admin API on that WebSocket port
 * @param {number} [o.sessionTimeoutS=60]  Janus session_timeout
 * @param {[number, number]} [o.rtpPorts]  RTP/RTCP port range (media.rtp_port_range)
 * @param {boolean} [o.verbose=false]  debug_level 5 instead of 4
 * @param {number} [o.timeoutMs=10000]
 * @returns {Promise<{wsUrl: string, address: string, wsPort: number, adminKey?: string,
 *   adminUrl?: string, adminSecret?: string, info: object, dir: string, logPath: string,
 *   pid: number, log(): string, exited: Promise<{code, signal}>, stop(): Promise<{code, signal}>}>}
 */
export async function startJanus({
  address, wsPort, dir, videoroom = {}, audiobridge = {}, adminKey, admin,
  sessionTimeoutS = 60, rtpPorts, verbose = false, timeoutMs = 10000,
} = {}) {
  if (typeof address !== 'string' || net.isIP(address) === 0) throw new TypeError('address must be an IP address');
  wsPort ??= await freePort(address);
  checkPort('wsPort', wsPort);
  if (!Number.isInteger(sessionTimeoutS) || sessionTimeoutS < 0) throw new RangeError('sessionTimeoutS must be an integer >= 0');
  if (rtpPorts !== undefined) {
    if (!Array.isArray(rtpPorts) || rtpPorts.length !== 2) throw new TypeError('rtpPorts must be [min, max]');
    rtpPorts.forEach((p, i) => checkPort(`rtpPorts[${i}]`, p));
    if (rtpPorts[0] > rtpPorts[1]) throw new RangeError('rtpPorts: min must not exceed max');
  }
  if (adminKey === true) adminKey = crypto.randomBytes(12).toString('base64url');
  if (admin) {
    checkPort('admin.port', admin.port);
    if (admin.port === wsPort) throw new RangeError('admin.port must differ from wsPort');
    admin = { port: admin.port, secret: admin.secret ?? crypto.randomBytes(12).toString('base64url') };
  }
  if (!fs.existsSync(JANUS)) throw new Error(`${JANUS} not found (Debian package janus)`);
  for (const p of [wsPort, ...(admin ? [admin.port] : [])]) {
    if (!await portIsFree(address, p)) throw new Error(`${address}:${p} is in use (another Janus there would share it through SO_REUSEPORT)`);
  }
  for (const [sub, names] of Object.entries(JANUS_MODULES)) {
    for (const n of names) {
      if (!fs.existsSync(path.join(JANUS_LIB, sub, n))) throw new Error(`${path.join(JANUS_LIB, sub, n)} not found (Debian package janus)`);
    }
  }

  const asRoot = process.getuid?.() === 0;
  const ownDir = !dir;
  dir = path.resolve(dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-janus-')));
  if (asRoot) {
    // Janus runs as nobody, who must reach the folder: every existing parent needs the others'
    // x bit.
    for (let p = path.dirname(dir); ; p = path.dirname(p)) {
      if (fs.existsSync(p) && (fs.statSync(p).mode & 0o001) === 0) {
        throw new Error(`${p} is not searchable by others, so Janus (run as nobody) cannot reach ${dir}; pick a dir under /tmp`);
      }
      if (p === path.dirname(p)) break;
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  str('dir', dir);
  const file = (n) => path.join(dir, n);
  const logPath = file('janus.log');
  fs.rmSync(logPath, { force: true });

  // Module folders: symlinks to only what we need; events/ and loggers/ stay empty.
  for (const sub of ['plugins', 'transports', 'events', 'loggers']) {
    fs.rmSync(file(sub), { recursive: true, force: true });
    fs.mkdirSync(file(sub));
    for (const n of JANUS_MODULES[sub] ?? []) fs.symlinkSync(path.join(JANUS_LIB, sub, n), path.join(file(sub), n));
  }
  const files = janusConfigFiles({
    address, wsPort, dir, sessionTimeoutS, debugLevel: verbose ? 5 : 4, rtpPorts,
    videoroom, audiobridge, adminKey, admin,
  });
  // 0600: the admin key / admin secret must not be readable by other users.
  for (const [n, text] of Object.entries(files)) fs.writeFileSync(file(n), text, { mode: 0o600 });

  // -C/-F: our config only. -o: no colours. -N: no stdout log (it goes to janus.log).
  const argv = ['-C', file('janus.jcfg'), '-F', dir, '-o', '-N'];
  const server = startPrivate(JANUS, argv, {
    asNobody: asRoot, cwd: dir, killAfterMs: 3000,
    ownedByNobody: ['', ...Object.keys(files), 'plugins', 'transports', 'events', 'loggers'].map(file),
  });
  const { exited, pid } = server;
  const log = () => { try { return fs.readFileSync(logPath, 'utf8'); } catch { return ''; } };
  const tail = () => `${server.output().trim()}\n${log().split('\n').slice(-25).join('\n')}`;
  let stopping = null;
  const stop = () => {
    stopping ??= (async () => {
      await server.stop();
      if (ownDir && !process.env.CHORUS_KEEP_JANUS_DIR) fs.rmSync(dir, { recursive: true, force: true });
      return exited;
    })();
    return stopping;
  };

  const wsUrl = `ws://${hostPart(address)}:${wsPort}`;
  const deadline = Date.now() + timeoutMs;
  let info;
  for (;;) {
    if (server.isDead()) {
      const why = `janus exited early (${JSON.stringify(await exited)}): ${tail()}`;
      await stop();
      throw new Error(why);
    }
    const r = await janusRequest(wsUrl, { janus: 'info' }, { timeoutMs: 500 });
    if (r?.janus === 'server_info') { info = r; break; }
    if (Date.now() > deadline) {
      const why = `janus did not answer info on ${wsUrl} within ${timeoutMs} ms: ${tail()}`;
      await stop();
      throw new Error(why);
    }
    await new Promise((res) => setTimeout(res, 50));
  }

  return {
    wsUrl, address, wsPort, info, dir, logPath, pid, log, exited, stop,
    ...(adminKey ? { adminKey } : {}),
    ...(admin ? { adminUrl: `ws://${hostPart(address)}:${admin.port}`, adminSecret: admin.secret } : {}),
    ...(isLoopback(address) ? { note: 'loopback address: signaling only, Janus gathers no ICE candidates on loopback' } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--address': o.address = val(); break;
      case '--ws-port': o.wsPort = Number(val()); break;
      case '--dir': o.dir = val(); break;
      case '--admin-key': o.adminKey = val(); break;
      case '--session-timeout': o.sessionTimeoutS = Number(val()); break;
      case '--rtp-ports': {
        const m = /^(\d+)-(\d+)$/.exec(val());
        if (!m) throw new Error('--rtp-ports wants MIN-MAX');
        o.rtpPorts = [Number(m[1]), Number(m[2])];
        break;
      }
      case '--admin-port': o.admin = { port: Number(val()) }; break;
      case '--string-ids': o.videoroom = { stringIds: true }; o.audiobridge = { stringIds: true }; break;
      case '--verbose': case '-v': o.verbose = true; break;
      case '--help': case '-h': o.help = true; break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

async function main() {
  const usage = 'usage: node tools/janus/janus.mjs --address IP [--ws-port 8188] [--dir D] [--admin-key K] [--session-timeout S] [--rtp-ports MIN-MAX] [--admin-port P] [--string-ids] [--verbose]';
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${e.message}\n${usage}`);
    process.exit(2);
  }
  if (o.help || !o.address) {
    console.error(usage);
    process.exit(o.help ? 0 : 2);
  }
  const { help, ...opts } = o;
  const janus = await startJanus({ wsPort: 8188, ...opts });
  const plugins = Object.keys(janus.info.plugins ?? {}).join(', ');
  console.log(`janus ${janus.info.version_string} (pid ${janus.pid}) listening: ${janus.wsUrl} (subprotocol janus-protocol)`);
  console.log(`plugins: ${plugins}; session_timeout ${janus.info['session-timeout']} s`);
  if (janus.adminKey) console.log(`rooms can be created only with admin_key ${janus.adminKey}`);
  if (janus.adminUrl) console.log(`Admin API: ${janus.adminUrl} (subprotocol janus-admin-protocol), admin_secret ${janus.adminSecret}`);
  if (janus.note) console.log(`note: ${janus.note}`);
  console.log(`config, certificate and log in ${janus.dir} (log: ${janus.logPath})`);
  await serveUntilSignal('janus', janus);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(e.message || e); process.exit(1); });
}
