// chorus-rtc-server's configuration (tools/server/config.mjs): flags and CHORUS_* variables to
// startServer() options and the ServerCore config as docs/architecture.md names it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError, USAGE, DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../../tools/server/config.mjs';

const SECRET = 'x'.repeat(40);
/** parseConfig with a fake file system: `files` maps path -> content. */
const parse = (argv, env = {}, files = {}, stdoutIsTTY = false) => parseConfig(argv, env, {
  stdoutIsTTY,
  readFile: (p) => {
    if (!(p in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return files[p];
  },
});
const rejects = (argv, env, re, files) => assert.throws(() => parse(argv, env, files),
  (err) => err instanceof ConfigError && re.test(err.message), `${argv.join(' ')} ${JSON.stringify(env)}`);

test('defaults: port 8080, every address, empty core config, JSON logs unless on a terminal', () => {
  const c = parse([]);
  assert.deepEqual(c.serverOptions, { port: 8080, config: {} });
  assert.deepEqual(c.logging, { format: 'json', level: 'info' });
  assert.equal(c.shutdownTimeoutMs, DEFAULT_SHUTDOWN_TIMEOUT_MS);
  assert.deepEqual(c.warnings, []);
  assert.equal(parse([], {}, {}, true).logging.format, 'text');
  assert.deepEqual(parse(['--help']), { help: true });
  assert.deepEqual(parse(['-h', '--port', 'nonsense']), { help: true });
});

test('every setting from the environment, mapped to the documented core config', () => {
  const env = {
    CHORUS_PORT: '9000', CHORUS_HOST: '127.0.0.1', CHORUS_LOG_FORMAT: 'text', CHORUS_LOG_LEVEL: 'debug',
    CHORUS_SHUTDOWN_TIMEOUT_MS: '2500',
    CHORUS_MAX_PEERS: '8', CHORUS_MAX_MESSAGE_BYTES: '4096',
    CHORUS_ICE_SERVERS: '[{"urls":"stun:stun.example.org:3478"}]',
    CHORUS_AUTH_SECRET: SECRET, CHORUS_REQUIRE_AUTH: 'true',
    CHORUS_TURN_URLS: 'turn:10.77.0.1:3478?transport=udp, turns:turn.example.org:5349',
    CHORUS_TURN_SECRET: 'coturn-secret', CHORUS_TURN_TTL: '600',
    CHORUS_ALLOWED_ORIGINS: 'https://App.Example.org/,http://localhost:8080',
    CHORUS_MAX_ROOMS: '100', CHORUS_MAX_CONNECTIONS_PER_IP: '20', CHORUS_RATE: '30', CHORUS_BURST: '90',
    CHORUS_REDIS_URL: 'redis://127.0.0.1:6379/0',
    CHORUS_MAX_TALK_MS: '15000', CHORUS_NO_DISPATCHERS: '1',
  };
  const c = parse([], env);
  assert.deepEqual(c.serverOptions, {
    port: 9000,
    host: '127.0.0.1',
    redis: 'redis://127.0.0.1:6379/0',
    config: {
      maxPeersPerRoom: 8,
      maxMessageBytes: 4096,
      iceServers: [{ urls: 'stun:stun.example.org:3478' }],
      auth: { secret: SECRET, required: true },
      turn: { urls: ['turn:10.77.0.1:3478?transport=udp', 'turns:turn.example.org:5349'], secret: 'coturn-secret', ttlSeconds: 600 },
      limits: {
        messagesPerSecond: 30, messageBurst: 90, maxRooms: 100, maxConnectionsPerAddress: 20,
        allowedOrigins: ['https://app.example.org', 'http://localhost:8080'],
      },
      floor: { maxTalkMs: 15000, dispatchers: false },
    },
  });
  assert.deepEqual(c.logging, { format: 'text', level: 'debug' });
  assert.equal(c.shutdownTimeoutMs, 2500);
});

test('a flag wins over its variable', () => {
  const env = {
    CHORUS_PORT: '9000', CHORUS_HOST: '10.0.0.1', CHORUS_LOG_FORMAT: 'text', CHORUS_LOG_LEVEL: 'debug',
    CHORUS_MAX_PEERS: '8', CHORUS_MAX_MESSAGE_BYTES: '4096', CHORUS_ICE_SERVERS: '[]',
    CHORUS_AUTH_SECRET: 'from-env-but-long-enough-to-not-warn!!', CHORUS_TURN_URLS: 'turn:a:3478',
    CHORUS_TURN_SECRET: 'env-turn', CHORUS_TURN_TTL: '600', CHORUS_ALLOWED_ORIGINS: 'https://a.example',
    CHORUS_MAX_ROOMS: '100', CHORUS_MAX_CONNECTIONS_PER_IP: '20', CHORUS_RATE: '30', CHORUS_BURST: '90',
    CHORUS_REDIS_URL: 'redis://env:6379', CHORUS_MAX_TALK_MS: '15000', CHORUS_SHUTDOWN_TIMEOUT_MS: '1',
  };
  const files = { '/run/secrets/auth': `${SECRET}\n`, '/run/secrets/turn': '  turn-from-file \n' };
  const c = parse([
    '--port', '0', '--host', '::1', '--log-format', 'json', '--log-level', 'warn', '--max-peers', '3',
    '--max-message-bytes', '1024', '--ice-servers', '[{"urls":"stun:flag"}]',
    '--auth-secret-file', '/run/secrets/auth', '--turn-urls', 'turn:b:3478', '--turn-secret-file', '/run/secrets/turn',
    '--turn-ttl', '60', '--allowed-origins', 'https://b.example', '--max-rooms', '5', '--max-connections-per-ip', '2',
    '--messages-per-second', '3', '--message-burst', '9', '--redis', 'rediss://flag:6380', '--max-talk-ms', '500',
    '--shutdown-timeout-ms', '700',
  ], env, files);
  assert.deepEqual(c.serverOptions, {
    port: 0,
    host: '::1',
    redis: 'rediss://flag:6380',
    config: {
      maxPeersPerRoom: 3,
      maxMessageBytes: 1024,
      iceServers: [{ urls: 'stun:flag' }],
      auth: { secret: SECRET, required: false },
      turn: { urls: ['turn:b:3478'], secret: 'turn-from-file', ttlSeconds: 60 },
      limits: { messagesPerSecond: 3, messageBurst: 9, maxRooms: 5, maxConnectionsPerAddress: 2, allowedOrigins: ['https://b.example'] },
      floor: { maxTalkMs: 500 },
    },
  });
  assert.deepEqual(c.logging, { format: 'json', level: 'warn' });
  assert.equal(c.shutdownTimeoutMs, 700);
  // Booleans: the flag turns them on whatever the variable says.
  const b = parse(['--require-auth', '--no-dispatchers'], { CHORUS_AUTH_SECRET: SECRET, CHORUS_REQUIRE_AUTH: 'no', CHORUS_NO_DISPATCHERS: 'false' });
  assert.equal(b.serverOptions.config.auth.required, true);
  assert.deepEqual(b.serverOptions.config.floor, { dispatchers: false });
});

test('empty variables count as unset; flags given as --name=value work', () => {
  const c = parse(['--port=1234'], { CHORUS_HOST: '', CHORUS_MAX_PEERS: '', CHORUS_REQUIRE_AUTH: '' });
  assert.deepEqual(c.serverOptions, { port: 1234, config: {} });
});

test('bad values are refused with a message naming the flag or variable', () => {
  const cases = [
    [['--port', 'abc'], {}, /--port must be a whole number/],
    [['--port', '70000'], {}, /--port must be between 0 and 65535/],
    [[], { CHORUS_PORT: '-1' }, /CHORUS_PORT must be a whole number/],
    [[], { CHORUS_PORT: '80.5' }, /CHORUS_PORT/],
    [['--host', ' '], {}, /--host must not be empty/],
    [['--log-format', 'xml'], {}, /--log-format must be one of json, text/],
    [[], { CHORUS_LOG_LEVEL: 'verbose' }, /CHORUS_LOG_LEVEL must be one of debug, info, warn, error/],
    [['--max-peers', '0'], {}, /--max-peers must be between 1/],
    [[], { CHORUS_MAX_MESSAGE_BYTES: '10' }, /CHORUS_MAX_MESSAGE_BYTES must be between 64/],
    [['--ice-servers', '{nope'], {}, /--ice-servers is not valid JSON/],
    [[], { CHORUS_ICE_SERVERS: '{"urls":"x"}' }, /CHORUS_ICE_SERVERS must be a JSON array/],
    [[], { CHORUS_REQUIRE_AUTH: 'maybe', CHORUS_AUTH_SECRET: SECRET }, /CHORUS_REQUIRE_AUTH must be 1\/true/],
    [['--require-auth'], {}, /--require-auth needs a token key/],
    [[], { CHORUS_REQUIRE_AUTH: '1' }, /needs a token key/],
    [['--auth-secret-file', '/nope'], {}, /--auth-secret-file: cannot read "\/nope": ENOENT/],
    [['--auth-secret-file', '/empty'], {}, /--auth-secret-file: "\/empty" is empty/, { '/empty': ' \n' }],
    [[], { CHORUS_TURN_URLS: 'turn:a:3478' }, /CHORUS_TURN_URLS needs coturn's static-auth-secret/],
    [[], { CHORUS_TURN_URLS: 'stun:a:3478', CHORUS_TURN_SECRET: 's' }, /"stun:a:3478" is not a turn: or turns: URL/],
    [['--turn-urls', ' , '], { CHORUS_TURN_SECRET: 's' }, /--turn-urls must list at least one entry/],
    [[], { CHORUS_TURN_SECRET: 's' }, /without TURN URLs/],
    [['--turn-ttl', '0'], {}, /--turn-ttl must be between 1/],
    [[], { CHORUS_ALLOWED_ORIGINS: 'example.org' }, /"example.org" is not an origin/],
    [['--allowed-origins', 'https://a.example/path'], {}, /is not an origin/],
    [['--max-rooms', 'lots'], {}, /--max-rooms must be a whole number/],
    [[], { CHORUS_MAX_CONNECTIONS_PER_IP: '0' }, /CHORUS_MAX_CONNECTIONS_PER_IP must be between 1/],
    [[], { CHORUS_RATE: '2.5' }, /CHORUS_RATE must be a whole number/],
    [['--message-burst', '0'], {}, /--message-burst must be between 1/],
    [['--redis', 'localhost:6379'], {}, /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
    [[], { CHORUS_REDIS_URL: 'not a url' }, /CHORUS_REDIS_URL must be a URL/],
    [['--max-talk-ms', '0'], {}, /--max-talk-ms must be between 1/],
    [['--bogus'], {}, /Unknown option '--bogus'/],
    [['stray'], {}, /positional/],
    [['--port'], {}, /--port/],
  ];
  for (const [argv, env, re, files] of cases) rejects(argv, env, re, files);
});

test('secrets are refused on the command line, with the safe alternative named', () => {
  rejects(['--auth-secret', 'hunter2'], {}, /--auth-secret is not accepted.*CHORUS_AUTH_SECRET.*--auth-secret-file/);
  rejects(['--auth-secret=hunter2'], {}, /--auth-secret is not accepted/);
  rejects(['--turn-secret', 'x'], {}, /--turn-secret is not accepted.*CHORUS_TURN_SECRET/);
  // The message must not repeat the secret.
  try {
    parse(['--auth-secret=hunter2']);
  } catch (err) {
    assert.ok(!err.message.includes('hunter2'));
  }
});

test('a short auth secret is accepted with a warning; a secret alone means tokens are optional', () => {
  const c = parse([], { CHORUS_AUTH_SECRET: 'short' });
  assert.deepEqual(c.serverOptions.config.auth, { secret: 'short', required: false });
  assert.equal(c.warnings.length, 1);
  assert.match(c.warnings[0], /fewer than 32 bytes/);
  assert.ok(!c.warnings[0].includes('short'), 'the warning does not print the secret');
});

test('the usage text names every flag and variable', () => {
  for (const name of ['--port', '--host', '--log-format', '--log-level', '--max-peers', '--max-message-bytes',
    '--ice-servers', '--auth-secret-file', '--require-auth', '--turn-urls', '--turn-secret-file', '--turn-ttl',
    '--allowed-origins', '--max-rooms', '--max-connections-per-ip', '--messages-per-second', '--message-burst',
    '--redis', '--max-talk-ms', '--no-dispatchers', '--shutdown-timeout-ms',
    'CHORUS_PORT', 'CHORUS_HOST', 'CHORUS_LOG_FORMAT', 'CHORUS_LOG_LEVEL', 'CHORUS_MAX_PEERS',
    'CHORUS_MAX_MESSAGE_BYTES', 'CHORUS_ICE_SERVERS', 'CHORUS_AUTH_SECRET', 'CHORUS_REQUIRE_AUTH',
    'CHORUS_TURN_URLS', 'CHORUS_TURN_SECRET', 'CHORUS_TURN_TTL', 'CHORUS_ALLOWED_ORIGINS', 'CHORUS_MAX_ROOMS',
    'CHORUS_MAX_CONNECTIONS_PER_IP', 'CHORUS_RATE', 'CHORUS_BURST', 'CHORUS_REDIS_URL',
    '--janus', 'CHORUS_JANUS_URL', '--topology-down-hold-ms', 'CHORUS_TOPOLOGY_DOWN_HOLD_MS',
    '--start-janus', 'CHORUS_START_JANUS', '--janus-address', 'CHORUS_JANUS_ADDRESS']) {
    assert.ok(USAGE.includes(name), name);
  }
  for (const line of USAGE.split('\n')) assert.ok(line.length <= 95, `usage line too long: ${line}`);
});

test('a Janus URL and the topology hold reach the core config', () => {
  const c = parse(['--janus', 'ws://10.77.0.1:8188', '--topology-down-hold-ms', '2500'], {});
  assert.deepEqual(c.serverOptions.config.janus, { url: 'ws://10.77.0.1:8188/' });
  assert.deepEqual(c.serverOptions.config.topology, { downHoldMs: 2500 });
  assert.deepEqual(parse([], { CHORUS_JANUS_URL: 'wss://janus.example/ws' }).serverOptions.config.janus,
    { url: 'wss://janus.example/ws' });
  assert.throws(() => parse(['--janus', 'http://10.77.0.1:8088/janus'], {}), /ws:\/\/ or wss:\/\//);
  assert.throws(() => parse(['--janus', 'not a url'], {}), /must be a URL/);
  assert.equal(parse([], {}).serverOptions.config.janus, undefined);
});

test('a Redis password stays off the command line and out of messages; TURN without auth warns', () => {
  assert.throws(() => parse(['--redis', 'redis://:hunter2@10.0.0.5:6379'], {}), (e) => /CHORUS_REDIS_URL/.test(e.message) && !e.message.includes('hunter2'));
  assert.equal(parse([], { CHORUS_REDIS_URL: 'redis://:hunter2@10.0.0.5:6379' }).serverOptions.redis, 'redis://:hunter2@10.0.0.5:6379');
  assert.throws(() => parse([], { CHORUS_REDIS_URL: 'http://:hunter2@x/' }), (e) => !e.message.includes('hunter2'));
  const open = parse(['--turn-urls', 'turn:10.0.0.1:3478'], { CHORUS_TURN_SECRET: 't' });
  assert.ok(open.warnings.some((w) => /relay through your TURN server/.test(w)));
  const closed = parse(['--turn-urls', 'turn:10.0.0.1:3478', '--require-auth'], { CHORUS_TURN_SECRET: 't', CHORUS_AUTH_SECRET: 'x'.repeat(32) });
  assert.ok(!closed.warnings.some((w) => /relay/.test(w)));
});
