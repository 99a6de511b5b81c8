// chorus-rtc-server's configuration: command-line flags and CHORUS_* environment variables
// (a flag wins over its variable), checked and turned into startServer() options with the
// ServerCore config named as docs/architecture.md documents it. Pure apart from reading the
// secret files it is pointed at (injectable), so every rule is unit-tested without a process.
//
// Secrets never come from the command line: other local users can read a process's arguments
// (ps, /proc/PID/cmdline). They come from the environment or from a file.

import fs from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { LEVELS, FORMATS } from './log.mjs';

/** A bad flag or variable; `message` names it and says what is expected. */
export class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10000;
/** Below this many bytes an HS256 key is weaker than the hash (RFC 7518 3.2). */
const MIN_SECRET_BYTES = 32;

export const USAGE = `Usage: chorus-rtc-server [options]

Each option can also be set by the environment variable named after it; a flag wins.

  --port N, CHORUS_PORT                HTTP + WebSocket port; 0 = any free port (8080)
  --host ADDR, CHORUS_HOST             listen address (default: every address)
  --log-format json|text, CHORUS_LOG_FORMAT
                                       log lines (default: text on a terminal, else json)
  --log-level L, CHORUS_LOG_LEVEL      debug, info, warn or error (info)
  --shutdown-timeout-ms N, CHORUS_SHUTDOWN_TIMEOUT_MS
                                       on SIGTERM/SIGINT, how long clients get to take their
                                       1012 close before they are cut off (10000)

Rooms and messages
  --max-peers N, CHORUS_MAX_PEERS      most peers in one room (50)
  --max-message-bytes N, CHORUS_MAX_MESSAGE_BYTES
                                       largest signaling message, in bytes (65536)
  --max-rooms N, CHORUS_MAX_ROOMS      most rooms at once
  --max-connections-per-ip N, CHORUS_MAX_CONNECTIONS_PER_IP
                                       most open sockets from one address
  --messages-per-second N, CHORUS_RATE sustained messages per second per connection
  --message-burst N, CHORUS_BURST      messages a connection may send at once
  --allowed-origins LIST, CHORUS_ALLOWED_ORIGINS
                                       comma-separated origins that may connect, e.g.
                                       https://app.example.org (default: any)
Access
  --auth-secret-file PATH, or CHORUS_AUTH_SECRET
                                       HS256 key of join tokens (tools/mint-token.mjs)
  --resume-key-file PATH, or CHORUS_RESUME_KEY
                                       key of resume secrets, the same on every process of
                                       a cluster (default: derived from the auth secret)
  --require-auth, CHORUS_REQUIRE_AUTH=1
                                       refuse joins without a valid token
ICE and TURN
  --ice-servers JSON, CHORUS_ICE_SERVERS
                                       RTCIceServer list for clients, e.g.
                                       '[{"urls":"stun:stun.example.org:3478"}]'
  --turn-urls LIST, CHORUS_TURN_URLS   comma-separated turn:/turns: URLs handed out with
                                       per-peer credentials (coturn use-auth-secret)
  --turn-secret-file PATH, or CHORUS_TURN_SECRET
                                       coturn's static-auth-secret
  --turn-ttl SECONDS, CHORUS_TURN_TTL  TURN credential lifetime (86400)
Scale-out
  --ping-interval-ms N, CHORUS_PING_INTERVAL_MS
                                       WebSocket ping period; a socket that misses a pong
                                       is dropped (15000)
  --redis URL, CHORUS_REDIS_URL        share rooms with other processes over Redis,
                                       e.g. redis://127.0.0.1:6379
  --janus URL, CHORUS_JANUS_URL        Janus WebSocket URL (ws:// or wss://) that rooms may use
                                       as SFU (VideoRoom) and audio MCU (AudioBridge); without
                                       it every room is a mesh
  --start-janus, CHORUS_START_JANUS=1  start a private Janus with the server and use it
                                       (Debian's janus through tools/janus/janus.mjs, in a
                                       checkout); stopped with the server. No usable address
                                       or no janus binary (CHORUS_JANUS, default
                                       /usr/bin/janus): a warning, and every room is a mesh
  --janus-address IP, CHORUS_JANUS_ADDRESS
                                       where that Janus listens and gathers ICE candidates
                                       (default: the first non-loopback IPv4 address)
  --topology-down-hold-ms N, CHORUS_TOPOLOGY_DOWN_HOLD_MS
                                       how long a room stays small before it leaves the SFU
                                       for a mesh (10000)
Push-to-talk
  --max-talk-ms N, CHORUS_MAX_TALK_MS  a floor grant ends after N ms (60000)
  --no-dispatchers, CHORUS_NO_DISPATCHERS=1
                                       refuse joins with the dispatcher role

  -h, --help                           show this text

Secrets come from the environment or a file, never from the command line.
`;

/** Flags whose value would be a secret: refused with a pointer to the safe way. */
const SECRET_FLAGS = {
  '--auth-secret': 'set CHORUS_AUTH_SECRET or use --auth-secret-file PATH',
  '--turn-secret': 'set CHORUS_TURN_SECRET or use --turn-secret-file PATH',
  '--secret': 'use CHORUS_AUTH_SECRET or --auth-secret-file PATH',
};

const str = { type: 'string' };
const bool = { type: 'boolean' };
const PARSE_OPTIONS = {
  port: str, host: str, 'log-format': str, 'log-level': str, 'shutdown-timeout-ms': str,
  'max-peers': str, 'max-message-bytes': str, 'max-rooms': str, 'max-connections-per-ip': str,
  'messages-per-second': str, 'message-burst': str, 'allowed-origins': str,
  'auth-secret-file': str, 'require-auth': bool, 'resume-key-file': str,
  'ice-servers': str, 'turn-urls': str, 'turn-secret-file': str, 'turn-ttl': str,
  redis: str, janus: str, 'start-janus': bool, 'janus-address': str, 'ping-interval-ms': str, 'topology-down-hold-ms': str, 'max-talk-ms': str, 'no-dispatchers': bool,
  help: { type: 'boolean', short: 'h' },
};

/**
 * @typedef {object} Config
 * @property {boolean} [help]  --help was given (nothing else is set)
 * @property {{port: number, host?: string, config: object, redis?: string}} serverOptions
 *   for startServer() (add a logger)
 * @property {{format: 'json'|'text', level: string}} logging  for createLogger()
 * @property {number} shutdownTimeoutMs
 * @property {string[]} warnings  things worth logging at start (e.g. a short secret)
 * @property {{address?: string}|null} startJanus  --start-janus: start a private Janus (at
 *   `address`, else one picked from the interfaces) and set config.janus.url to it
 */

/**
 * Parses flags and environment into server options.
 *
 * @param {string[]} argv  arguments after the script name
 * @param {Record<string, string|undefined>} [env]  e.g. process.env; empty values count as unset
 * @param {object} [io]
 * @param {boolean} [io.stdoutIsTTY=false]  picks the default log format
 * @param {(path: string) => string} [io.readFile]  reads a secret file (default fs.readFileSync)
 * @returns {Config|{help: true}}
 * @throws {ConfigError}
 */
export function parseConfig(argv, env = {}, io = {}) {
  const { stdoutIsTTY = false, readFile = (p) => fs.readFileSync(p, 'utf8') } = io;
  for (const a of argv) {
    const name = a.split('=', 1)[0];
    if (Object.hasOwn(SECRET_FLAGS, name)) {
      throw new ConfigError(`${name} is not accepted: a secret on the command line is visible to ` +
        `every local user; ${SECRET_FLAGS[name]}`);
    }
  }
  let flags;
  try {
    flags = parseArgs({ args: argv, options: PARSE_OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError(err.message);
  }
  if (flags.help) return { help: true };

  /** The flag's value, else the variable's, with the name to blame in errors; or undefined. */
  const pick = (flag, variable) => {
    if (flags[flag] !== undefined) return { value: flags[flag], from: `--${flag}` };
    const v = variable && env[variable];
    if (v !== undefined && v !== '') return { value: v, from: variable };
    return undefined;
  };
  const integer = (flag, variable, min, max) => {
    const p = pick(flag, variable);
    return p && parseInteger(p.from, p.value, min, max);
  };
  const boolean = (flag, variable) => {
    if (flags[flag]) return true;
    const v = env[variable];
    return v === undefined || v === '' ? undefined : parseBoolean(variable, v);
  };
  const secret = (fileFlag, variable) => {
    if (flags[fileFlag] !== undefined) return readSecretFile(`--${fileFlag}`, flags[fileFlag], readFile);
    const v = env[variable];
    return v === undefined || v === '' ? undefined : v;
  };
  const warnings = [];

  const logging = {
    format: oneOf(pick('log-format', 'CHORUS_LOG_FORMAT'), FORMATS) ?? (stdoutIsTTY ? 'text' : 'json'),
    level: oneOf(pick('log-level', 'CHORUS_LOG_LEVEL'), Object.keys(LEVELS)) ?? 'info',
  };

  const serverOptions = { port: integer('port', 'CHORUS_PORT', 0, 65535) ?? DEFAULT_PORT };
  const host = pick('host', 'CHORUS_HOST');
  if (host) serverOptions.host = nonEmpty(host);
  const ping = integer('ping-interval-ms', 'CHORUS_PING_INTERVAL_MS', 100, 3600000);
  if (ping !== undefined) serverOptions.pingIntervalMs = ping;
  const redis = pick('redis', 'CHORUS_REDIS_URL');
  if (redis) serverOptions.redis = parseRedisUrl(redis);

  const config = {};
  const janus = pick('janus', 'CHORUS_JANUS_URL');
  if (janus) config.janus = { url: parseWebSocketUrl(janus) };
  let startJanus = null;
  const janusAddress = pick('janus-address', 'CHORUS_JANUS_ADDRESS');
  if (boolean('start-janus', 'CHORUS_START_JANUS')) {
    if (janus) {
      throw new ConfigError(`--start-janus and ${janus.from} both name the media server: use one`);
    }
    startJanus = {};
    if (janusAddress) {
      const address = janusAddress.value.trim();
      if (net.isIP(address) === 0) throw new ConfigError(`${janusAddress.from} must be an IP address, got "${janusAddress.value}"`);
      startJanus.address = address;
    }
  } else if (janusAddress) {
    throw new ConfigError(`${janusAddress.from} is only used with --start-janus (CHORUS_START_JANUS=1)`);
  }
  const downHold = integer('topology-down-hold-ms', 'CHORUS_TOPOLOGY_DOWN_HOLD_MS', 1, 3600000);
  if (downHold !== undefined) config.topology = { downHoldMs: downHold };
  set(config, 'maxPeersPerRoom', integer('max-peers', 'CHORUS_MAX_PEERS', 1, 1e6));
  set(config, 'maxMessageBytes', integer('max-message-bytes', 'CHORUS_MAX_MESSAGE_BYTES', 64, 8 * 1024 * 1024));
  const ice = pick('ice-servers', 'CHORUS_ICE_SERVERS');
  if (ice) config.iceServers = parseIceServers(ice);

  const authSecret = secret('auth-secret-file', 'CHORUS_AUTH_SECRET');
  const resumeKey = secret('resume-key-file', 'CHORUS_RESUME_KEY');
  if (resumeKey !== undefined) config.resumeKey = resumeKey;
  const requireAuth = boolean('require-auth', 'CHORUS_REQUIRE_AUTH') ?? false;
  if (requireAuth && authSecret === undefined) {
    throw new ConfigError('--require-auth needs a token key: set CHORUS_AUTH_SECRET or use --auth-secret-file PATH');
  }
  if (authSecret !== undefined) {
    config.auth = { secret: authSecret, required: requireAuth };
    if (Buffer.byteLength(authSecret) < MIN_SECRET_BYTES) {
      warnings.push(`the auth secret has fewer than ${MIN_SECRET_BYTES} bytes; use a random 32-byte (or longer) key`);
    }
  }

  const turnUrls = pick('turn-urls', 'CHORUS_TURN_URLS');
  const turnSecret = secret('turn-secret-file', 'CHORUS_TURN_SECRET');
  const turnTtl = integer('turn-ttl', 'CHORUS_TURN_TTL', 1, 30 * 86400);
  if (turnUrls) {
    if (turnSecret === undefined) {
      throw new ConfigError(`${turnUrls.from} needs coturn's static-auth-secret: set CHORUS_TURN_SECRET or use --turn-secret-file PATH`);
    }
    config.turn = { urls: parseTurnUrls(turnUrls), secret: turnSecret };
    set(config.turn, 'ttlSeconds', turnTtl);
    if (!config.auth?.required) {
      warnings.push('TURN credentials go to every client that joins, and joins need no token: '
        + 'anyone who can reach this server can relay through your TURN server (--require-auth)');
    }
  } else if (turnSecret !== undefined || turnTtl !== undefined) {
    throw new ConfigError('a TURN secret or TTL without TURN URLs: set CHORUS_TURN_URLS or --turn-urls');
  }

  const limits = {};
  set(limits, 'messagesPerSecond', integer('messages-per-second', 'CHORUS_RATE', 1, 1e6));
  set(limits, 'messageBurst', integer('message-burst', 'CHORUS_BURST', 1, 1e6));
  set(limits, 'maxRooms', integer('max-rooms', 'CHORUS_MAX_ROOMS', 1, 1e9));
  set(limits, 'maxConnectionsPerAddress', integer('max-connections-per-ip', 'CHORUS_MAX_CONNECTIONS_PER_IP', 1, 1e9));
  const origins = pick('allowed-origins', 'CHORUS_ALLOWED_ORIGINS');
  if (origins) limits.allowedOrigins = parseOrigins(origins);
  if (Object.keys(limits).length) config.limits = limits;

  const floor = {};
  set(floor, 'maxTalkMs', integer('max-talk-ms', 'CHORUS_MAX_TALK_MS', 1, 0x7fffffff));
  if (boolean('no-dispatchers', 'CHORUS_NO_DISPATCHERS')) floor.dispatchers = false;
  if (Object.keys(floor).length) config.floor = floor;

  serverOptions.config = config;
  const shutdownTimeoutMs = integer('shutdown-timeout-ms', 'CHORUS_SHUTDOWN_TIMEOUT_MS', 0, 3600000)
    ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  return { serverOptions, logging, shutdownTimeoutMs, warnings, startJanus };
}

function set(obj, key, value) {
  if (value !== undefined) obj[key] = value;
}

function nonEmpty({ value, from }) {
  if (value.trim() === '') throw new ConfigError(`${from} must not be empty`);
  return value.trim();
}

function oneOf(p, allowed) {
  if (!p) return undefined;
  const v = p.value.trim().toLowerCase();
  if (!allowed.includes(v)) throw new ConfigError(`${p.from} must be one of ${allowed.join(', ')}, got "${p.value}"`);
  return v;
}

export function parseInteger(name, text, min, max) {
  const t = String(text).trim();
  if (!/^\d+$/.test(t)) throw new ConfigError(`${name} must be a whole number, got "${text}"`);
  const n = Number(t);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function parseBoolean(name, text) {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw new ConfigError(`${name} must be 1/true/yes/on or 0/false/no/off, got "${text}"`);
}

/** A comma-separated list with blanks dropped; empty is an error (a typo, not "none"). */
function list({ value, from }) {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new ConfigError(`${from} must list at least one entry`);
  return items;
}

function parseIceServers({ value, from }) {
  let ice;
  try {
    ice = JSON.parse(value);
  } catch (err) {
    throw new ConfigError(`${from} is not valid JSON: ${err.message}`);
  }
  if (!Array.isArray(ice) || !ice.every((s) => s && typeof s === 'object' && !Array.isArray(s))) {
    throw new ConfigError(`${from} must be a JSON array of RTCIceServer objects`);
  }
  return ice;
}

function parseTurnUrls(p) {
  const urls = list(p);
  for (const u of urls) {
    if (!/^turns?:[^\s]+$/i.test(u)) throw new ConfigError(`${p.from}: "${u}" is not a turn: or turns: URL`);
  }
  return urls;
}

/** Origins as browsers send them (scheme://host[:port], no path), lower-cased. */
function parseOrigins(p) {
  return list(p).map((o) => {
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#\s]+)\/?$/i.exec(o);
    if (!m) throw new ConfigError(`${p.from}: "${o}" is not an origin like https://app.example.org`);
    return m[1].toLowerCase();
  });
}

function parseWebSocketUrl({ value, from }) {
  let url;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(`${from} must be a URL like ws://10.0.0.5:8188/, got "${value}"`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ConfigError(`${from} must be a ws:// or wss:// URL, got "${value}"`);
  }
  return url.href;
}

/** The URL with its password (if any) blanked out, for messages and logs. */
export function redactUrl(value) {
  try {
    const url = new URL(String(value).trim());
    if (url.password) url.password = '***';
    return url.href;
  } catch {
    return '(not a URL)';
  }
}

function parseRedisUrl({ value, from }) {
  let url;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(`${from} must be a URL like redis://127.0.0.1:6379, got "${value}"`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`${from} must be a redis:// or rediss:// URL, got "${redactUrl(value)}"`);
  }
  if (url.password && from.startsWith('--')) {
    throw new ConfigError(`${from} holds a password, which the command line shows to every user: set CHORUS_REDIS_URL instead`);
  }
  return value.trim();
}

/**
 * Reads a secret from a file: surrounding whitespace (the newline editors add) is dropped;
 * an empty or unreadable file is an error.
 * @param {string} name  the flag, for messages
 * @param {string} file
 * @param {(path: string) => string} [readFile]
 */
export function readSecretFile(name, file, readFile = (p) => fs.readFileSync(p, 'utf8')) {
  let text;
  try {
    text = String(readFile(file));
  } catch (err) {
    throw new ConfigError(`${name}: cannot read "${file}": ${err.code ?? err.message}`);
  }
  const secret = text.trim();
  if (!secret) throw new ConfigError(`${name}: "${file}" is empty`);
  return secret;
}
