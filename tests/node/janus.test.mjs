// The Janus launcher (tools/janus/janus.mjs) against Debian's real janus, signaling only (no
// media, so 127.0.0.1 is fine): only the plugins chorus needs are loaded, only the Janus API
// WebSocket listens, sessions and on-demand rooms work, admin_key and session_timeout are
// applied, and stop() leaves no process and no folder behind.
//
// Needs the `janus` package (tools/setup.sh installs it); without it every case is skipped with
// that reason. As root Janus runs as nobody; that check is skipped when not root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startJanus, janusConfigFiles, JANUS, JANUS_LIB, AUDIOBRIDGE_ROOM_DEFAULTS, VIDEOROOM_ROOM_DEFAULTS,
} from '../../tools/janus/janus.mjs';
import { JanusSocket } from '../../tools/janus/janus-socket.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HOST = '127.0.0.1';
const installed = fs.existsSync(JANUS) && fs.existsSync(path.join(JANUS_LIB, 'plugins/libjanus_videoroom.so'));
const skip = installed ? false : `Debian's janus is not installed (${JANUS}); run tools/setup.sh`;
const isRoot = process.getuid?.() === 0;

let janus;
before(async () => { if (!skip) janus = await startJanus({ address: HOST }); });
after(async () => { await janus?.stop(); });

/** TCP ports the process listens on, from /proc (no ss/netstat needed). */
function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {}
  }
  const ports = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols[1] local addr:port (hex), cols[3] state (0A = LISTEN), cols[9] inode
      if (cols[3] === '0A' && inodes.has(cols[9])) ports.push(parseInt(cols[1].split(':')[1], 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

const alive = (pid) => {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
};

/** Processes whose command line mentions `needle` (for "nothing left behind"). */
function processesMentioning(needle) {
  const out = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(`${p}: ${cmd}`);
    } catch {}
  }
  return out;
}

test('info: VideoRoom and AudioBridge loaded, nothing else; only the WebSocket transport', { skip }, async () => {
  const { info } = janus;
  assert.equal(info.janus, 'server_info');
  assert.equal(info.version_string, '1.1.2');
  assert.deepEqual(Object.keys(info.plugins).sort(), ['janus.plugin.audiobridge', 'janus.plugin.videoroom']);
  assert.deepEqual(Object.keys(info.transports), ['janus.transport.websockets']);
  assert.deepEqual(info.events, {}, 'no event handlers');
  assert.deepEqual(info.loggers, {}, 'no external loggers');
  assert.equal(info.event_handlers, false);
  assert.equal(info['session-timeout'], 60);
  assert.equal(info['local-ip'], HOST, 'the address given is the one Janus puts in its SDP');
  assert.equal(info.api_secret, false);
  assert.equal(info['log-to-file'], true);
  assert.equal(info['log-path'], janus.logPath);
  // Asked again over a fresh socket: the same answer.
  const c = await JanusSocket.connect(janus.wsUrl, { name: 'info' });
  try {
    const again = await c.call({ janus: 'info' });
    assert.deepEqual(Object.keys(again.plugins).sort(), Object.keys(info.plugins).sort());
  } finally { c.close(); }
});

test('only the Janus API WebSocket listens (no HTTP transport, no Admin API); runs from its own folder', { skip }, () => {
  assert.deepEqual(listeningPorts(janus.pid), [janus.wsPort]);
  const cmdline = fs.readFileSync(`/proc/${janus.pid}/cmdline`, 'utf8').split('\0');
  assert.ok(cmdline.includes(path.join(janus.dir, 'janus.jcfg')), `-C points at our config: ${cmdline.join(' ')}`);
  assert.ok(!cmdline.some((a) => a.startsWith('/etc/janus')), 'nothing from /etc/janus');
  assert.deepEqual(fs.readdirSync(path.join(janus.dir, 'plugins')).sort(), ['libjanus_audiobridge.so', 'libjanus_videoroom.so']);
  assert.deepEqual(fs.readdirSync(path.join(janus.dir, 'transports')), ['libjanus_websockets.so']);
  const conf = fs.readFileSync(path.join(janus.dir, 'janus.jcfg'), 'utf8');
  assert.match(conf, new RegExp(`ice_enforce_list = "${HOST.replace(/\./g, '\\.')}"`));
  assert.doesNotMatch(conf, /admin_secret/, 'no admin secret: no Admin API');
  const vr = fs.readFileSync(path.join(janus.dir, 'janus.plugin.videoroom.jcfg'), 'utf8');
  assert.doesNotMatch(vr, /admin_key/, 'rooms may be created on demand by anyone');
  assert.ok(janus.log().includes('JANUS VideoRoom plugin initialized'), 'log file written');
});

test('runs as nobody when started by root', { skip: skip || (!isRoot && 'not root: Janus runs as the current user, setpriv is not used') }, () => {
  const status = fs.readFileSync(`/proc/${janus.pid}/status`, 'utf8');
  assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
  assert.match(status, /^Gid:\s+65534\s+65534\s+65534\s+65534$/m);
  assert.match(status, /^Groups:\s*$/m, 'no supplementary groups');
});

test('a session: create, attach both plugins, keepalive, on-demand rooms, detach, destroy', { skip }, async () => {
  const c = await JanusSocket.connect(janus.wsUrl, { name: 't' });
  try {
    const created = await c.call({ janus: 'create' });
    assert.equal(created.janus, 'success');
    const session = created.data.id;
    assert.ok(Number.isSafeInteger(session) && session > 0, `session id ${session}`);
    const attach = async (plugin) => (await c.call({ janus: 'attach', session_id: session, plugin }));
    const vr = await attach('janus.plugin.videoroom');
    const ab = await attach('janus.plugin.audiobridge');
    assert.equal(vr.janus, 'success');
    assert.equal(ab.janus, 'success');
    const absent = await attach('janus.plugin.echotest');
    assert.equal(absent.janus, 'error');
    assert.equal(absent.error.code, 460, 'No such plugin');

    assert.equal((await c.acked({ janus: 'keepalive', session_id: session })).janus, 'ack');

    const msg = (handle, body) => c.call({ janus: 'message', session_id: session, handle_id: handle, body });
    const room = 100000 + (process.pid % 100000);
    const vrCreated = await msg(vr.data.id, { request: 'create', room, ...VIDEOROOM_ROOM_DEFAULTS });
    assert.deepEqual(vrCreated.plugindata.data, { videoroom: 'created', room, permanent: false });
    const listed = await msg(vr.data.id, { request: 'list' });
    const entry = listed.plugindata.data.list.find((r) => r.room === room);
    assert.equal(entry.bitrate, VIDEOROOM_ROOM_DEFAULTS.bitrate);
    const abCreated = await msg(ab.data.id, { request: 'create', room, ...AUDIOBRIDGE_ROOM_DEFAULTS });
    assert.deepEqual(abCreated.plugindata.data, { audiobridge: 'created', room, permanent: false });
    const abListed = await msg(ab.data.id, { request: 'list' });
    assert.equal(abListed.plugindata.data.list.find((r) => r.room === room).sampling_rate, 48000);

    for (const h of [vr.data.id, ab.data.id]) {
      assert.equal((await c.call({ janus: 'detach', session_id: session, handle_id: h })).janus, 'success');
    }
    assert.equal((await c.call({ janus: 'destroy', session_id: session })).janus, 'success');
    const gone = await c.call({ janus: 'keepalive', session_id: session });
    assert.equal(gone.janus, 'error');
    assert.equal(gone.error.code, 458, 'No such session');
  } finally { c.close(); }
});

test('options: admin_key, session_timeout, static rooms, Admin API; stop() leaves nothing behind', { skip, timeout: 30000 }, async () => {
  const j = await startJanus({
    address: HOST, adminKey: true, sessionTimeoutS: 2, admin: { port: await (await import('../../tools/janus/janus.mjs')).freePort(HOST) },
    videoroom: { rooms: [{ room: 4242, description: 'static' }] },
    audiobridge: { rooms: [{ room: 4343 }] },
  });
  const { pid, dir } = j;
  try {
    assert.equal(typeof j.adminKey, 'string');
    assert.equal(j.info['session-timeout'], 2);
    assert.deepEqual(listeningPorts(pid), [j.wsPort, Number(new URL(j.adminUrl).port)].sort((a, b) => a - b));
    const c = await JanusSocket.connect(j.wsUrl, { name: 'o' });
    try {
      const session = (await c.call({ janus: 'create' })).data.id;
      const h = (await c.call({ janus: 'attach', session_id: session, plugin: 'janus.plugin.videoroom' })).data.id;
      const msg = (body) => c.call({ janus: 'message', session_id: session, handle_id: h, body });
      const refused = await msg({ request: 'create', room: 7 });
      assert.equal(refused.plugindata.data.error_code, 429, `create without admin_key: ${JSON.stringify(refused)}`);
      const wrong = await msg({ request: 'create', room: 7, admin_key: 'nope' });
      assert.equal(wrong.plugindata.data.error_code, 433, `wrong admin_key: ${JSON.stringify(wrong)}`);
      const ok = await msg({ request: 'create', room: 7, admin_key: j.adminKey });
      assert.equal(ok.plugindata.data.videoroom, 'created');
      const list = (await msg({ request: 'list' })).plugindata.data.list;
      const stat = list.find((r) => r.room === 4242);
      assert.equal(stat.description, 'static');
      assert.equal(stat.bitrate, VIDEOROOM_ROOM_DEFAULTS.bitrate, 'static rooms get the generous bitrate');
      // No keepalive: Janus's watchdog (every 2 s) times the session out.
      const t = await c.waitFor((m) => m.janus === 'timeout', { timeoutMs: 10000, what: 'the timeout event' });
      assert.equal(t.session_id, session);
    } finally { c.close(); }
    const admin = await new Promise((resolve, reject) => {
      import('ws').then(({ default: WebSocket }) => {
        const ws = new WebSocket(j.adminUrl, 'janus-admin-protocol');
        ws.on('error', reject);
        ws.on('open', () => ws.send(JSON.stringify({ janus: 'ping', transaction: 'p', admin_secret: j.adminSecret })));
        ws.on('message', (d) => { ws.close(); resolve(JSON.parse(String(d))); });
      });
    });
    assert.equal(admin.janus, 'pong');
  } finally {
    const r = await j.stop();
    assert.deepEqual(r, { code: 0, signal: null }, 'janus exits cleanly on SIGTERM');
  }
  assert.equal(alive(pid), false, 'the janus process is gone');
  assert.deepEqual(processesMentioning(dir), [], 'no process refers to its folder');
  assert.equal(fs.existsSync(dir), false, 'its temp folder is removed');
  assert.deepEqual(await j.stop(), { code: 0, signal: null }, 'stop() twice is harmless');
});

test('a busy port is refused before Janus starts (libwebsockets would share it via SO_REUSEPORT)', { skip }, async () => {
  await assert.rejects(startJanus({ address: HOST, wsPort: janus.wsPort }), /in use/);
  assert.equal(listeningPorts(janus.pid).length, 1);
});

test('bad options are refused before anything starts', { skip }, async () => {
  await assert.rejects(startJanus({ address: 'localhost' }), /address must be an IP/);
  await assert.rejects(startJanus({ address: HOST, wsPort: 70000 }), /port number/);
  await assert.rejects(startJanus({ address: HOST, rtpPorts: [2000, 1000] }), /min must not exceed/);
  assert.throws(() => janusConfigFiles({ address: HOST, wsPort: 1, dir: '/tmp/x', videoroom: { rooms: [{ room: 'a b' }] } }), /rooms/);
  assert.throws(() => janusConfigFiles({ address: HOST, wsPort: 1, dir: '/tmp/x', adminKey: 'a"b' }), /quotes/);
});

test('CLI: prints the URL, SIGTERM stops janus and exits 0', { skip, timeout: 20000 }, async () => {
  const { freePort } = await import('../../tools/janus/janus.mjs');
  const port = await freePort(HOST);
  const cli = spawn(process.execPath, [path.join(ROOT, 'tools/janus/janus.mjs'), '--address', HOST, '--ws-port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  cli.stdout.on('data', (d) => { out += d; });
  cli.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => cli.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    const deadline = Date.now() + 10000;
    while (!out.includes('listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, new RegExp(`listening: ws://127\\.0\\.0\\.1:${port}`));
    assert.match(out, /plugins: janus\.plugin\.videoroom, janus\.plugin\.audiobridge/);
    const pid = Number(/janus 1\.1\.2 \(pid (\d+)\)/.exec(out)?.[1]);
    assert.ok(alive(pid));
    cli.kill('SIGTERM');
    assert.deepEqual(await exited, { code: 0, signal: null });
    assert.equal(alive(pid), false, 'janus stopped with the CLI');
  } finally {
    cli.kill('SIGKILL');
  }
});
