// Push-to-talk floor control through the real signaling server (tools/server/, the wasm
// ServerCore) with `ws` clients: request / deny / release / grant, dispatcher preemption, the
// max talk time, a dropped talker, late joiners, and the CLI flags that configure it.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../tools/server/server.mjs';
import { TestClient, HOST } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAX_TALK_MS = 400;

let roomSeq = 0;
const freshRoom = () => `floor-${process.pid}-${++roomSeq}`;
const isFloor = (m) => m.type === 'floor';

describe('floor control through the server', () => {
  let srv;
  let noDispatchers;
  const clients = [];
  const connect = async (url = srv.wsUrl) => {
    const c = await TestClient.connect(url);
    clients.push(c);
    return c;
  };
  /** n clients in one fresh room; extra[i] goes into the i-th join. */
  const roomOf = async (n, extra = []) => {
    const room = freshRoom();
    const cs = [];
    for (let i = 0; i < n; i++) {
      const c = await connect();
      c.welcome = await c.join(room, `p${i}`, extra[i] ?? {});
      cs.push(c);
    }
    return cs;
  };

  before(async () => {
    srv = await startServer({ port: 0, host: HOST, logger: null, config: { floor: { maxTalkMs: MAX_TALK_MS } } });
    noDispatchers = await startServer({ port: 0, host: HOST, logger: null, config: { floor: { dispatchers: false } } });
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await srv.close();
    await noDispatchers.close();
  });

  test('request, deny with the holder, release, then the other is granted', async () => {
    const [a, b, c] = await roomOf(3);
    assert.deepEqual(a.welcome.floor, { holder: null, epoch: 0, reason: null });

    a.send({ type: 'floor-request', id: 1 });
    const held = { type: 'floor', holder: a.peerId, epoch: 1, reason: 'granted' };
    assert.deepEqual(await a.next(isFloor), held, 'the requester hears the change too, first');
    assert.deepEqual(await a.next('floor-granted'), { type: 'floor-granted', id: 1, epoch: 1, maxTalkMs: MAX_TALK_MS });
    assert.deepEqual(await b.next(isFloor), held);
    assert.deepEqual(await c.next(isFloor), held);

    b.send({ type: 'floor-request', id: 'x' });
    assert.equal((await b.next('error')).code, 'bad-message', 'a malformed request gets a typed error');
    b.send({ type: 'floor-request', id: 2 });
    const denied = await b.next('error');
    assert.equal(denied.code, 'floor-denied');
    assert.equal(denied.ref, 'floor-request');
    assert.equal(denied.id, 2);
    assert.equal(denied.holder, a.peerId);

    b.send({ type: 'floor-release' });  // not the holder: ignored
    await a.nothing(isFloor, 150);

    a.send({ type: 'floor-release' });
    const free = { type: 'floor', holder: null, epoch: 1, reason: 'released' };
    for (const x of [a, b, c]) assert.deepEqual(await x.next(isFloor), free);

    b.send({ type: 'floor-request', id: 3 });
    const granted = await b.next('floor-granted');
    assert.equal(granted.epoch, 2, 'every grant takes a new epoch');
    assert.deepEqual(await c.next(isFloor), { type: 'floor', holder: b.peerId, epoch: 2, reason: 'granted' });
  });

  test('simultaneous requests: exactly one is granted', async () => {
    const cs = await roomOf(4);
    cs.forEach((c, i) => c.send({ type: 'floor-request', id: i }));
    const answers = await Promise.all(cs.map((c) => c.next((m) => m.type === 'floor-granted' || m.type === 'error')));
    assert.equal(answers.filter((m) => m.type === 'floor-granted').length, 1, JSON.stringify(answers));
    const winner = cs[answers.findIndex((m) => m.type === 'floor-granted')];
    for (const m of answers.filter((x) => x.type === 'error')) {
      assert.equal(m.code, 'floor-denied');
      assert.equal(m.holder, winner.peerId);
    }
  });

  test('a dispatcher preempts a talker but not another dispatcher; peers see roles', async () => {
    const [t, d, e] = await roomOf(3, [{}, { role: 'dispatcher' }, { role: 'dispatcher' }]);
    assert.deepEqual(e.welcome.peers.map((p) => p.role).sort(), ['dispatcher', 'talker']);
    assert.equal((await t.next('peer-joined')).peer.role, 'dispatcher');

    t.send({ type: 'floor-request', id: 1 });
    await t.next('floor-granted');
    d.send({ type: 'floor-request', id: 1 });
    assert.equal((await d.next('floor-granted')).epoch, 2);
    const preempted = { type: 'floor', holder: d.peerId, epoch: 2, reason: 'preempted' };
    assert.deepEqual(await t.next((m) => isFloor(m) && m.epoch === 2), preempted, 'the talker is told');

    e.send({ type: 'floor-request', id: 1 });
    const denied = await e.next('error');
    assert.equal(denied.code, 'floor-denied');
    assert.equal(denied.holder, d.peerId);
  });

  test('the max talk time revokes the floor (reason timeout)', async () => {
    const [a, b] = await roomOf(2);
    const t0 = Date.now();
    a.send({ type: 'floor-request' });
    await a.next('floor-granted');
    const revoked = await b.next((m) => isFloor(m) && m.reason === 'timeout', MAX_TALK_MS + 2000);
    const elapsed = Date.now() - t0;
    assert.deepEqual(revoked, { type: 'floor', holder: null, epoch: 1, reason: 'timeout' });
    assert.ok(elapsed >= MAX_TALK_MS - 20 && elapsed < MAX_TALK_MS + 500, `revoked after ${elapsed} ms`);
    assert.deepEqual(await a.next((m) => isFloor(m) && m.reason === 'timeout'), revoked);
  });

  test('a talker whose socket drops frees the floor at once; a late joiner sees the state', async () => {
    const [a, b] = await roomOf(2);
    a.send({ type: 'floor-request' });
    await a.next('floor-granted');
    const late = await connect();
    const w = await late.join(b.welcome.room, 'late');
    assert.deepEqual(w.floor, { holder: a.peerId, epoch: 1, reason: 'granted' });

    const t0 = Date.now();
    a.ws.terminate();  // no close frame: the server sees 1006 and keeps the seat for a resume
    const dropped = { type: 'floor', holder: null, epoch: 1, reason: 'dropped' };
    assert.deepEqual(await b.next((m) => isFloor(m) && m.reason !== 'granted'), dropped);
    assert.ok(Date.now() - t0 < 1000, 'not after the resume grace');
    await b.nothing('peer-left', 100);  // the seat itself waits for a resume

    const again = await connect();
    const resumed = await again.join(b.welcome.room, 'p0', { resume: { peerId: a.peerId, secret: a.welcome.secret } });
    assert.equal(resumed.resumed, true);
    assert.deepEqual(resumed.floor, { holder: null, epoch: 1, reason: 'dropped' });
  });

  test('a talker leaving frees the floor (reason left) before peer-left', async () => {
    const [a, b] = await roomOf(2);
    a.send({ type: 'floor-request' });
    await a.next('floor-granted');
    await b.next(isFloor);
    a.send({ type: 'leave' });
    const first = await b.next((m) => isFloor(m) || m.type === 'peer-left');
    assert.deepEqual(first, { type: 'floor', holder: null, epoch: 1, reason: 'left' });
    assert.equal((await b.next('peer-left')).peerId, a.peerId);
  });

  test('floor messages before joining are not-joined; a refused dispatcher claim is floor-denied', async () => {
    const c = await connect();
    c.send({ type: 'floor-request', id: 1 });
    assert.deepEqual([(await c.next('error')).code], ['not-joined']);

    const d = await connect(noDispatchers.wsUrl);
    d.send({ type: 'join', v: 1, room: freshRoom(), name: 'boss', role: 'dispatcher' });
    const refused = await d.next('error');
    assert.equal(refused.code, 'floor-denied');
    assert.equal(refused.ref, 'join');
    const w = await d.join(freshRoom(), 'boss');  // the socket goes on
    assert.equal(w.type, 'welcome');
  });
});

describe('cli.mjs floor flags', () => {
  test('--max-talk-ms and --no-dispatchers reach the core', async () => {
    const proc = spawn(process.execPath, [path.join(ROOT, 'tools/server/cli.mjs'), '--port', '0', '--host', HOST,
      '--max-talk-ms', '1234', '--no-dispatchers'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((r) => proc.on('exit', (code) => r(code)));
    try {
      const url = await new Promise((resolve, reject) => {
        let out = '';
        const t = setTimeout(() => reject(new Error('no URL line')), 10000);
        proc.stdout.on('data', (d) => {
          out += d;
          const m = out.match(/(http:\/\/\S+)\n/);
          if (m) { clearTimeout(t); resolve(m[1].replace('http:', 'ws:')); }
        });
      });
      const c = await TestClient.connect(url);
      c.send({ type: 'join', v: 1, room: 'cli-floor', name: 'd', role: 'dispatcher' });
      assert.equal((await c.next('error')).code, 'floor-denied');
      await c.join('cli-floor', 't');
      c.send({ type: 'floor-request' });
      assert.equal((await c.next('floor-granted')).maxTalkMs, 1234);
      c.ws.terminate();
    } finally {
      proc.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  test('a bad --max-talk-ms exits 2 with usage', async () => {
    for (const value of ['0', 'abc', '99999999999']) {
      const p = spawn(process.execPath, [path.join(ROOT, 'tools/server/cli.mjs'), '--max-talk-ms', value],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stderr.on('data', (d) => { text += d; });
      const code = await new Promise((r) => p.on('exit', r));
      assert.equal(code, 2, `--max-talk-ms ${value}`);
      assert.match(text, /Usage:/);
    }
  });
});
