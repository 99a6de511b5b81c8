// `chorus-rtc-server --start-janus` (tools/server/start-janus.mjs, cli.mjs): the server starts a
// private Janus on a real interface address, uses it as the media server (rooms go to the SFU),
// and stops it on shutdown; without a usable address or janus binary it warns and serves rooms as
// a mesh. The CLI cases run the real process; the Janus case needs Debian's janus and a
// non-loopback IPv4 address, the no-address case root (a network namespace with loopback only).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pickJanusAddress, startPrivateJanus } from '../../tools/server/start-janus.mjs';
import { parseConfig, ConfigError } from '../../tools/server/config.mjs';
import { JANUS, JANUS_LIB, janusRequest } from '../../tools/janus/janus.mjs';
import { TestClient, HOST } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'tools/server/cli.mjs');
const installed = fs.existsSync(JANUS) && fs.existsSync(path.join(JANUS_LIB, 'plugins/libjanus_videoroom.so'));
const address = pickJanusAddress();
const isRoot = process.getuid?.() === 0;
const canUnshare = isRoot && spawnSync('unshare', ['-n', 'true']).status === 0;

let roomSeq = 0;
const freshRoom = () => `start-janus-${process.pid}-${++roomSeq}`;

/** A log collecting every call, in the shape of log.mjs's logger. */
function memoryLog() {
  const lines = [];
  const at = (level) => (msg, fields) => lines.push({ level, msg, ...fields });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

describe('picking the address and the options', () => {
  test('the first non-internal IPv4 address; link-local only as a last resort; none without one', () => {
    const lo = { address: '127.0.0.1', family: 'IPv4', internal: true };
    const v6 = { address: 'fd00::2', family: 'IPv6', internal: false };
    assert.equal(pickJanusAddress({ lo: [lo], eth0: [v6, { address: '192.0.2.2', family: 'IPv4', internal: false }] }), '192.0.2.2');
    assert.equal(pickJanusAddress({
      eth0: [{ address: '169.254.3.4', family: 'IPv4', internal: false }],
      eth1: [{ address: '10.1.2.3', family: 4, internal: false }],
    }), '10.1.2.3');
    assert.equal(pickJanusAddress({ eth0: [{ address: '169.254.3.4', family: 'IPv4', internal: false }] }), '169.254.3.4');
    assert.equal(pickJanusAddress({ lo: [lo], eth0: [v6], down: undefined }), null);
    assert.equal(pickJanusAddress({}), null);
  });

  test('--start-janus / CHORUS_START_JANUS, --janus-address; refused with --janus or a bad address', () => {
    const parse = (argv, env = {}) => parseConfig(argv, env);
    assert.equal(parse([]).startJanus, null);
    assert.deepEqual(parse(['--start-janus']).startJanus, {});
    assert.deepEqual(parse([], { CHORUS_START_JANUS: '1' }).startJanus, {});
    assert.equal(parse([], { CHORUS_START_JANUS: '0' }).startJanus, null);
    assert.deepEqual(parse(['--start-janus', '--janus-address', '10.77.0.1']).startJanus, { address: '10.77.0.1' });
    assert.deepEqual(parse(['--start-janus'], { CHORUS_JANUS_ADDRESS: 'fd00::2' }).startJanus, { address: 'fd00::2' });
    assert.equal(parse(['--start-janus']).serverOptions.config.janus, undefined, 'the URL is set once Janus runs');
    assert.throws(() => parse(['--start-janus', '--janus', 'ws://10.0.0.5:8188']), (e) => e instanceof ConfigError && /use one/.test(e.message));
    assert.throws(() => parse(['--start-janus'], { CHORUS_JANUS_URL: 'ws://10.0.0.5:8188' }), /CHORUS_JANUS_URL/);
    assert.throws(() => parse(['--start-janus', '--janus-address', 'janus.local']), /must be an IP address/);
    assert.throws(() => parse(['--janus-address', '10.77.0.1']), /only used with --start-janus/);
    assert.throws(() => parse([], { CHORUS_START_JANUS: 'maybe' }), /CHORUS_START_JANUS/);
  });

  test('no address, or no launcher (an npm install without tools/janus/): a warning and no Janus', async () => {
    const log = memoryLog();
    assert.equal(await startPrivateJanus({ log, interfaces: { lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }] },
      loadLauncher: () => assert.fail('not loaded without an address') }), null);
    assert.match(log.lines[0].msg, /no non-loopback IPv4 address.*stays a mesh/);
    const missing = Object.assign(new Error("Cannot find module '../janus/janus.mjs'"), { code: 'ERR_MODULE_NOT_FOUND' });
    assert.equal(await startPrivateJanus({ log, address: '10.0.0.1', loadLauncher: async () => { throw missing; } }), null);
    assert.match(log.lines[1].msg, /checkout.*ERR_MODULE_NOT_FOUND.*stays a mesh/);
    assert.equal(log.lines.every((l) => l.level === 'warn'), true);
  });
});

/** process.env without the caller's CHORUS_* variables, plus `extra`. */
function cleanEnv(extra) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHORUS_')));
  return { ...env, CHORUS_LOG_FORMAT: 'json', ...extra };
}

/** Runs the CLI (optionally through a wrapper command such as `unshare -n`), reading its JSON log. */
function runCli(args, env = {}, wrapper = []) {
  const [cmd, ...pre] = wrapper.length ? wrapper : [process.execPath];
  const argv = wrapper.length ? [...pre, process.execPath, CLI, ...args] : [CLI, ...args];
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv(env) });
  let out = '';
  let err = '';
  const waiters = new Set();
  const events = () => out.split('\n').filter(Boolean).map((l) => {
    try { return JSON.parse(l); } catch { return { msg: `(not JSON) ${l}` }; }
  });
  const wake = () => { for (const w of waiters) w(); };
  proc.stdout.on('data', (d) => { out += d; wake(); });
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => proc.on('exit', (code, signal) => { wake(); r({ code, signal }); }));
  let dead = false;
  exited.then(() => { dead = true; });
  return {
    proc, events, exited, stderr: () => err,
    /** The first log event matching pred. */
    waitFor(pred, what, timeoutMs = 15000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const e = events().find(pred);
          if (e) { done(); resolve(e); } else if (dead) { done(); reject(new Error(`exited while waiting for ${what}:\n${out}${err}`)); }
        };
        const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}:\n${out}${err}`)); }, timeoutMs);
        const done = () => { clearTimeout(timer); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
    kill() { if (!dead) proc.kill('SIGKILL'); },
  };
}

const alive = (pid) => {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
};

/** Three peers join one classroom room; resolves with their welcomes and sockets. */
async function classroomOf3(url) {
  const room = freshRoom();
  const clients = [];
  const welcomes = [];
  for (const [i, role] of ['teacher', 'student', 'student'].entries()) {
    const c = await TestClient.connect(url);
    clients.push(c);
    welcomes.push(await c.join(room, `p${i}`, { role, policy: 'classroom' }));
  }
  return { clients, welcomes };
}

describe('chorus-rtc-server --start-janus', () => {
  test('starts a private Janus on the first non-loopback address, rooms use it, SIGTERM stops both',
    { skip: !installed ? `Debian's janus is not installed (${JANUS})` : !address ? 'no non-loopback IPv4 address here' : false, timeout: 60000 },
    async () => {
      const cli = runCli(['--port', '0', '--host', HOST, '--start-janus']);
      try {
        const started = await cli.waitFor((e) => e.msg === 'janus started', 'janus started');
        assert.equal(new URL(started.url).hostname, address, 'Janus listens on the picked address');
        assert.ok(alive(started.pid), 'the Janus process runs');
        const listening = await cli.waitFor((e) => e.url && /listening/.test(e.msg), 'the listening line');
        await cli.waitFor((e) => e.msg === 'janus reachable' && e.url === started.url, 'the media server reachable');
        const info = await janusRequest(started.url, { janus: 'info' });
        assert.equal(info?.janus, 'server_info', 'Janus answers on the URL the server uses');

        const health = await fetch(new URL('/healthz', listening.url));
        assert.equal(health.status, 200);

        // A classroom of three goes to the SFU on this Janus.
        const { clients } = await classroomOf3(listening.url.replace('http:', 'ws:'));
        const topo = await clients[0].next((m) => m.type === 'topology' && m.mode === 'sfu', 5000);
        assert.equal(topo.server?.url, started.url, 'the room names the started Janus');
        for (const c of clients) await c.close();

        cli.proc.kill('SIGTERM');
        assert.deepEqual(await cli.exited, { code: 0, signal: null }, cli.stderr());
        const msgs = cli.events().map((e) => e.msg);
        assert.ok(msgs.includes('janus stopped'), msgs.join('\n'));
        assert.equal(msgs.at(-1), 'stopped');
        assert.ok(!msgs.includes('janus exited'), 'no "exited" warning for our own stop');
        assert.equal(alive(started.pid), false, 'Janus is gone');
        assert.equal(fs.existsSync(started.dir), false, 'its folder is removed');
        assert.equal(cli.stderr(), '');
      } finally {
        cli.kill();
      }
    });

  test('a missing janus binary: a warning, the server starts, rooms stay a mesh', { timeout: 30000 }, async () => {
    const cli = runCli(['--port', '0', '--host', HOST, '--start-janus', '--janus-address', '127.0.0.1'],
      { CHORUS_JANUS: '/nonexistent/janus' });
    try {
      const warning = await cli.waitFor((e) => e.level === 'warn' && /start-janus/.test(e.msg), 'the warning');
      assert.match(warning.msg, /\/nonexistent\/janus not found.*every room stays a mesh/);
      const listening = await cli.waitFor((e) => e.url && /listening/.test(e.msg), 'the listening line');
      assert.equal((await fetch(new URL('/healthz', listening.url))).status, 200);
      const { clients, welcomes } = await classroomOf3(listening.url.replace('http:', 'ws:'));
      assert.notEqual(welcomes[2].topology?.mode, 'sfu', JSON.stringify(welcomes[2].topology));
      await clients[0].nothing((m) => m.type === 'topology' && m.mode === 'sfu', 500);
      for (const c of clients) await c.close();
      assert.ok(!cli.events().some((e) => /^janus (started|reachable)$/.test(e.msg)));
      cli.proc.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
    } finally {
      cli.kill();
    }
  });

  test('no non-loopback address (a network namespace with loopback only): a warning, the server starts',
    { skip: canUnshare ? false : 'needs root and unshare -n', timeout: 30000 }, async () => {
      const cli = runCli(['--port', '0', '--host', '127.0.0.1', '--start-janus'], {}, ['unshare', '-n']);
      try {
        const warning = await cli.waitFor((e) => e.level === 'warn' && /start-janus/.test(e.msg), 'the warning');
        assert.match(warning.msg, /no non-loopback IPv4 address.*every room stays a mesh/);
        await cli.waitFor((e) => e.url && /listening/.test(e.msg), 'the listening line');
        cli.proc.kill('SIGTERM');
        assert.equal((await cli.exited).code, 0);
      } finally {
        cli.kill();
      }
    });
});
