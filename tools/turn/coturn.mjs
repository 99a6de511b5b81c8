#!/usr/bin/env node
// Starts Debian's coturn (/usr/bin/turnserver, 4.6.1) as a private foreground process for tests
// and development: TURN REST credentials (use-auth-secret + static-auth-secret), the form the
// chorus signaling server's `turn` config mints (tools/turn/README.md).
//
// Everything coturn reads or writes lives in one folder of its own (a fresh temp dir unless
// `dir` is given): turnserver.conf (mode 0600: it holds the secret, which therefore never shows
// in `ps`), the SQLite userdb coturn insists on opening, its pid file and its log. Nothing under
// /etc is read: `-c` names our config file, which replaces the default /etc/turnserver.conf.
// (coturn's `-n` means "no config file", not "foreground"; turnserver stays in the foreground
// unless given -o/--daemon.)
//
// As root, turnserver runs as nobody (setpriv; ports >= 1024 need no privileges) and the folder
// is handed to that user.
//
//   import { startCoturn } from './tools/turn/coturn.mjs';
//   const turn = await startCoturn({ address: '10.77.0.1', secret });
//   turn.urls   // ['turn:10.77.0.1:3478?transport=udp', 'turn:10.77.0.1:3478?transport=tcp']
//   await turn.stop();
//
// CLI (developers): node tools/turn/coturn.mjs --address A --secret-file F [--port 3478]
//   [--realm R] [--dir D] [--min-port N] [--max-port N]   runs until Ctrl-C.

import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveUntilSignal, startPrivate } from '../lib/private-process.mjs';

export const TURNSERVER = process.env.CHORUS_TURNSERVER || '/usr/bin/turnserver';

const isLoopback = (a) => a === '::1' || /^127\./.test(a);
const hostPart = (a) => (net.isIPv6(a) ? `[${a}]` : a);

/** coturn config values are single tokens on one line; refuse what would break the file. */
function confValue(name, v) {
  const s = String(v);
  if (s === '' || /[\s#"'\\]/.test(s)) throw new TypeError(`${name} must be a non-empty string without spaces, quotes, '#' or '\\'`);
  return s;
}

function checkPort(name, v) {
  if (!Number.isInteger(v) || v < 1 || v > 65535) throw new RangeError(`${name} must be a port number (1..65535)`);
  return v;
}

/** A STUN Binding request (RFC 5389, no attributes); coturn answers it without credentials. */
function stunBindingAnswers(address, port, timeoutMs = 300) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    const id = crypto.randomBytes(12);
    const req = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), id]);
    const done = (ok) => { clearTimeout(timer); try { sock.close(); } catch {} resolve(ok); };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    // 0x0101: Binding success response with our transaction id.
    sock.on('message', (m) => { if (m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(id)) done(true); });
    sock.send(req, port, address, (err) => { if (err) done(false); });
  });
}

function tcpAccepts(address, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * Starts turnserver and resolves once it answers STUN on UDP and accepts TCP on `port`.
 * @param {object} o
 * @param {string} o.address  listening and relay IP (the test namespace's veth, or 127.0.0.1)
 * @param {number} [o.port=3478]
 * @param {string} o.secret   static-auth-secret (the signaling server's `turn.secret`)
 * @param {string} [o.realm='chorus.test']
 * @param {string} [o.dir]    folder for config/db/pid/log (default: a fresh temp dir, removed by stop())
 * @param {number} [o.minPort=49160] [o.maxPort=49200]  relay port range
 * @param {number} [o.timeoutMs=10000]  how long to wait for it to listen
 * @param {boolean} [o.verbose=false]  coturn's -v (logs every allocation request)
 * @returns {Promise<{urls: string[], url: string, address: string, port: number, realm: string,
 *   dir: string, logPath: string, pid: number, log(): string, exited: Promise<{code, signal}>,
 *   stop(): Promise<{code, signal}>}>}
 */
export async function startCoturn({
  address, port = 3478, secret, realm = 'chorus.test', dir,
  minPort = 49160, maxPort = 49200, timeoutMs = 10000, verbose = false,
} = {}) {
  if (typeof address !== 'string' || net.isIP(address) === 0) throw new TypeError('address must be an IP address');
  confValue('secret', secret ?? '');
  confValue('realm', realm);
  checkPort('port', port);
  checkPort('minPort', minPort);
  checkPort('maxPort', maxPort);
  if (minPort > maxPort) throw new RangeError('minPort must not exceed maxPort');
  if (port >= minPort && port <= maxPort) throw new RangeError('port must lie outside minPort..maxPort');
  if (!fs.existsSync(TURNSERVER)) throw new Error(`${TURNSERVER} not found (Debian package coturn)`);

  const asRoot = process.getuid?.() === 0;
  const ownDir = !dir;
  dir = path.resolve(dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-coturn-')));
  if (asRoot) {
    // turnserver runs as nobody, who must reach the folder: every existing parent needs the
    // others' x bit.
    for (let p = path.dirname(dir); ; p = path.dirname(p)) {
      if (fs.existsSync(p) && (fs.statSync(p).mode & 0o001) === 0) {
        throw new Error(`${p} is not searchable by others, so turnserver (run as nobody) cannot reach ${dir}; pick a dir under /tmp`);
      }
      if (p === path.dirname(p)) break;
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  confValue('dir', dir);
  const file = (n) => path.join(dir, n);
  const logPath = file('turn.log');
  const confPath = file('turnserver.conf');
  for (const n of ['turn.log', 'turn.pid', 'turndb']) fs.rmSync(file(n), { force: true });

  const conf = [
    `listening-ip=${address}`,
    `relay-ip=${address}`,
    `listening-port=${port}`,
    `min-port=${minPort}`,
    `max-port=${maxPort}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    `realm=${realm}`,
    'fingerprint',
    'no-tls',
    'no-dtls',
    'no-cli',
    'no-multicast-peers',
    // Loopback peers are refused by default; allowed only when coturn itself is on loopback.
    ...(isLoopback(address) ? ['allow-loopback-peers'] : []),
    `userdb=${file('turndb')}`,
    `pidfile=${file('turn.pid')}`,
    `log-file=${logPath}`,
    'simple-log',
    'no-stdout-log',
    ...(verbose ? ['verbose'] : []),
  ];
  fs.writeFileSync(confPath, conf.join('\n') + '\n', { mode: 0o600 });

  // As root: run as nobody, who then owns the folder (config, db, pid and log). Its stderr
  // shows 'socket: Protocol not supported' twice: its SCTP listener; harmless.
  const server = startPrivate(TURNSERVER, ['-c', confPath], { asNobody: asRoot, ownedByNobody: [dir, confPath] });
  const { exited, pid } = server;
  const output = () => server.output().trim();
  const log = () => { try { return fs.readFileSync(logPath, 'utf8'); } catch { return ''; } };
  const stop = async () => {
    await server.stop();
    if (ownDir && !process.env.CHORUS_KEEP_TURN_DIR) fs.rmSync(dir, { recursive: true, force: true });
    return exited;
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.isDead()) {
      const why = `turnserver exited early (${JSON.stringify(await exited)}): ${output()}\n${log().split('\n').slice(-15).join('\n')}`;
      await stop();
      throw new Error(why);
    }
    if (await stunBindingAnswers(address, port) && await tcpAccepts(address, port)) break;
    if (Date.now() > deadline) {
      const why = `turnserver did not answer on ${address}:${port} within ${timeoutMs} ms: ${output()}\n${log().split('\n').slice(-15).join('\n')}`;
      await stop();
      throw new Error(why);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const urls = [`turn:${hostPart(address)}:${port}?transport=udp`, `turn:${hostPart(address)}:${port}?transport=tcp`];
  return { urls, url: urls[0], address, port, realm, dir, logPath, pid, log, exited, stop };
}

/** TURN REST credentials (what the signaling server's `turn` config mints, and coturn's
 *  use-auth-secret checks): username `<unix expiry>:<user>`, credential base64(HMAC-SHA1). */
export function turnRestCredential(secret, user, ttlSeconds = 86400, nowMs = Date.now()) {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${user}`;
  const credential = crypto.createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

/**
 * One TURN Allocate over UDP with long-term credentials (RFC 5766/5389), as a browser does it:
 * an unauthenticated request, the 401 challenge (realm, nonce), the request again with
 * USERNAME/REALM/NONCE/MESSAGE-INTEGRITY. The allocation is released at once (Refresh,
 * lifetime 0). Tells whether a TURN server accepts `username`/`credential` without a browser.
 * @returns {Promise<{ok: boolean, code: number|null, reason: string, realm?: string, relayed?: string}>}
 *   ok: allocated (code null); otherwise the error code of the authenticated attempt (401: refused).
 */
export async function tryTurnAllocate({ address, port = 3478, username, credential, timeoutMs = 2000 }) {
  const sock = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  const waiting = new Map(); // transaction id (hex) -> resolve
  sock.on('message', (m) => {
    if (m.length < 20) return;
    const r = waiting.get(m.subarray(8, 20).toString('hex'));
    if (r) r(m);
  });
  await new Promise((resolve, reject) => { sock.once('error', reject); sock.bind(0, resolve); });
  const attr = (type, value) => {
    const pad = Buffer.alloc((4 - (value.length % 4)) % 4);
    const h = Buffer.alloc(4);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(value.length, 2);
    return Buffer.concat([h, value, pad]);
  };
  const message = (type, attrs, key) => {
    const id = crypto.randomBytes(12);
    let body = Buffer.concat(attrs);
    const header = (len) => {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(type, 0);
      h.writeUInt16BE(len, 2);
      h.writeUInt32BE(0x2112a442, 4);
      id.copy(h, 8);
      return h;
    };
    if (key) { // MESSAGE-INTEGRITY over the message with the length counting the attribute
      const mac = crypto.createHmac('sha1', key).update(Buffer.concat([header(body.length + 24), body])).digest();
      body = Buffer.concat([body, attr(0x0008, mac)]);
    }
    return { id, bytes: Buffer.concat([header(body.length), body]) };
  };
  const transact = async (msg) => {
    const key = msg.id.toString('hex');
    const got = new Promise((resolve) => waiting.set(key, resolve));
    let timer;
    try {
      for (let i = 0; i < 3; i++) { // UDP: retransmit
        sock.send(msg.bytes, port, address);
        const m = await Promise.race([got, new Promise((r) => { timer = setTimeout(r, timeoutMs / 3, null); })]);
        clearTimeout(timer);
        if (m) return parse(m);
      }
      throw new Error(`no answer from ${address}:${port}`);
    } finally {
      waiting.delete(key);
    }
  };
  const parse = (m) => {
    const out = { type: m.readUInt16BE(0), attrs: new Map() };
    for (let o = 20; o + 4 <= m.length;) {
      const t = m.readUInt16BE(o), len = m.readUInt16BE(o + 2);
      out.attrs.set(t, m.subarray(o + 4, o + 4 + len));
      o += 4 + len + ((4 - (len % 4)) % 4);
    }
    const err = out.attrs.get(0x0009);
    if (err) {
      out.code = (err[2] & 7) * 100 + err[3];
      out.reason = err.subarray(4).toString('utf8');
    }
    return out;
  };
  const transport = attr(0x0019, Buffer.from([17, 0, 0, 0])); // REQUESTED-TRANSPORT: UDP
  try {
    const challenge = await transact(message(0x0003, [transport]));
    if (challenge.type === 0x0103) return { ok: true, code: null, reason: 'allocated without credentials' };
    const realm = challenge.attrs.get(0x0014), nonce = challenge.attrs.get(0x0015);
    if (challenge.code !== 401 || !realm || !nonce) {
      return { ok: false, code: challenge.code ?? null, reason: `unexpected answer to the first Allocate: ${challenge.reason ?? challenge.type}` };
    }
    const key = crypto.createHash('md5').update(`${username}:${realm.toString('utf8')}:${credential}`).digest();
    const auth = [attr(0x0006, Buffer.from(username, 'utf8')), attr(0x0014, realm), attr(0x0015, nonce)];
    const answer = await transact(message(0x0003, [transport, ...auth], key));
    if (answer.type !== 0x0103) {
      return { ok: false, code: answer.code ?? null, reason: answer.reason ?? `message type ${answer.type}`, realm: realm.toString('utf8') };
    }
    const xr = answer.attrs.get(0x0016); // XOR-RELAYED-ADDRESS (IPv4)
    const relayed = xr && xr[1] === 1
      ? `${[...xr.subarray(4, 8)].map((b, i) => b ^ [0x21, 0x12, 0xa4, 0x42][i]).join('.')}:${xr.readUInt16BE(2) ^ 0x2112}`
      : undefined;
    // Release it (Refresh, LIFETIME 0); an answer is not needed.
    await transact(message(0x0004, [attr(0x000d, Buffer.alloc(4)), ...auth], key)).catch(() => {});
    return { ok: true, code: null, reason: 'allocated', realm: realm.toString('utf8'), relayed };
  } finally {
    sock.close();
  }
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
      case '--port': o.port = Number(val()); break;
      case '--secret-file': o.secretFile = val(); break;
      case '--realm': o.realm = val(); break;
      case '--dir': o.dir = val(); break;
      case '--min-port': o.minPort = Number(val()); break;
      case '--max-port': o.maxPort = Number(val()); break;
      case '--verbose': case '-v': o.verbose = true; break;
      case '--help': case '-h': o.help = true; break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

async function main() {
  const usage = 'usage: node tools/turn/coturn.mjs --address IP --secret-file FILE [--port 3478] [--realm R] [--dir D] [--min-port N] [--max-port N] [--verbose]';
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${e.message}\n${usage}`);
    process.exit(2);
  }
  if (o.help || !o.address || !o.secretFile) {
    console.error(usage);
    process.exit(o.help ? 0 : 2);
  }
  const secret = fs.readFileSync(o.secretFile, 'utf8').trim();
  const { secretFile, help, ...opts } = o;
  const turn = await startCoturn({ ...opts, secret });
  console.log(`coturn (pid ${turn.pid}) listening: ${turn.urls.join(' ')}`);
  console.log(`config, db and log in ${turn.dir} (log: ${turn.logPath})`);
  console.log(`signaling server config: "turn": ${JSON.stringify({ urls: [turn.url], secret: '<contents of ' + secretFile + '>', ttlSeconds: 86400 })}`);
  await serveUntilSignal('turnserver', turn);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(e.message || e); process.exit(1); });
}
