// Scale-out over Redis: real server processes (the CLI, as deployed) sharing rooms through a
// real redis-server. Peers on different processes meet in one room; when a process dies or
// shuts down, its peers reconnect to another and the room forms again there.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestClient, HOST, sleep } from './helpers.mjs';
import Redis from 'ioredis';
import { startRedis } from '../../tools/redis/redis.mjs';
import { freePort } from '../../tools/lib/private-process.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'tools', 'server', 'cli.mjs');

/** Starts `chorus-rtc-server --redis URL` on a free port; resolves once /healthz answers. */
async function startNode(redisUrl, extraArgs = []) {
  const port = await freePort(HOST);
  const child = spawn(process.execPath, [CLI, '--port', String(port), '--host', HOST, '--redis', redisUrl, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // One resume key for the cluster: a peer resumes on another process by proving its seat.
    env: { ...process.env, CHORUS_LOG_FORMAT: 'json', CHORUS_LOG_LEVEL: 'warn', CHORUS_RESUME_KEY: 'cluster-test-key' },
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      const r = await fetch(`http://${HOST}:${port}/healthz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server on ${port} did not start:\n${output}`);
    }
    await sleep(50);
  }
  return {
    port,
    wsUrl: `ws://${HOST}:${port}/`,
    child,
    exited,
    output: () => output,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

let roomCounter = 0;
const freshRoom = () => `cluster-${process.pid}-${++roomCounter}`;

/** Joins with a resume of an earlier welcome, as the client core does after a reconnect. */
function rejoin(client, room, name, welcome) {
  return client.join(room, name, { resume: { peerId: welcome.peerId, secret: welcome.secret } });
}

describe('scale-out over Redis', () => {
  let redis;
  const nodes = [];
  const clients = [];
  const connect = async (node) => {
    const c = await TestClient.connect(node.wsUrl);
    clients.push(c);
    return c;
  };

  /**
   * Two processes; A joins on p1 (so p1 hosts the room), B on p2 (its socket is handed to p1).
   * Resolves once A has heard of B.
   */
  async function pairOnTwoNodes(extraArgs = []) {
    const p1 = await startNode(redis.url, extraArgs);
    const p2 = await startNode(redis.url, extraArgs);
    nodes.push(p1, p2);
    const room = freshRoom();
    const a = await connect(p1);
    const b = await connect(p2);
    const wa = await a.join(room, 'A');
    const wb = await b.join(room, 'B');
    await a.next('peer-joined');
    return { p1, p2, room, a, b, wa, wb };
  }

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of clients) if (!c.closed) c.ws.terminate();
    await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
    await redis?.stop();
  });

  test('peers connected to different processes meet in one room and signal each other', async () => {
    const [p1, p2] = [await startNode(redis.url), await startNode(redis.url)];
    nodes.push(p1, p2);
    const room = freshRoom();
    const a = await connect(p1);
    const b = await connect(p2);
    const wa = await a.join(room, 'A');
    const wb = await b.join(room, 'B');
    assert.deepEqual(wb.peers.map((p) => p.id), [wa.peerId]);
    assert.equal((await a.next('peer-joined')).peer.id, wb.peerId);

    b.send({ type: 'signal', to: wa.peerId, kind: 'offer', sdp: 'v=0 from B' });
    const offer = await a.next('signal');
    assert.equal(offer.from, wb.peerId);
    assert.equal(offer.sdp, 'v=0 from B');
    a.send({ type: 'signal', to: wb.peerId, kind: 'answer', sdp: 'v=0 from A' });
    assert.equal((await b.next('signal')).sdp, 'v=0 from A');
    b.send({ type: 'broadcast', data: { hello: 'all' } });
    assert.deepEqual((await a.next('broadcast')).data, { hello: 'all' });

    // Each process says what it hosts and what it handed over.
    const m1 = await (await fetch(`http://${HOST}:${p1.port}/metrics`)).text();
    const m2 = await (await fetch(`http://${HOST}:${p2.port}/metrics`)).text();
    assert.match(m1, /^chorus_cluster_hosted_rooms\{node="[0-9a-f]+"\} 1$/m);
    assert.match(m1, /^chorus_cluster_remote_connections\{node="[0-9a-f]+"\} 1$/m);
    assert.match(m1, /^chorus_peers 2$/m);
    assert.match(m2, /^chorus_cluster_handed_over_sockets\{node="[0-9a-f]+"\} 1$/m);
    assert.match(m2, /^chorus_rooms 0$/m);

    // Typed errors come from the room's host for a socket handed over to it, too.
    b.send('{not json');
    assert.equal((await b.next('error')).code, 'bad-json');
    b.send({ type: 'signal', to: 'nobody1234', kind: 'offer', sdp: 'x' });
    assert.equal((await b.next('error')).code, 'unknown-peer');
    // A second room on the other process: each room has its own host, and neither leaks.
    const other = freshRoom();
    const c = await connect(p2);
    const d = await connect(p1);
    const wc = await c.join(other, 'C');
    const wd = await d.join(other, 'D');
    assert.deepEqual(wd.peers.map((p) => p.id), [wc.peerId]);
    b.send({ type: 'signal', to: wc.peerId, kind: 'offer', sdp: 'cross-room' });
    assert.equal((await b.next('error')).code, 'unknown-peer');
    await sleep(100);
    assert.equal(c.queue.filter((m) => m.type === 'signal').length, 0);
    assert.equal(a.queue.filter((m) => m.type === 'peer-joined').length, 0);

    await Promise.all([a, b, c, d].map((x) => x.close()));
    await Promise.all([p1.kill('SIGTERM'), p2.kill('SIGTERM')]);
  });

  test('a socket handed to another process lives on past the WebSocket ping period', async () => {
    // Short ping periods: both the host's liveness loop and the edge's see several rounds.
    const { p1, p2, a, b, wa, wb } = await pairOnTwoNodes(['--ping-interval-ms', '200']);
    await sleep(1500);
    assert.equal(b.closed, null);
    assert.equal(a.closed, null);
    b.send({ type: 'signal', to: wa.peerId, kind: 'offer', sdp: 'still here' });
    assert.equal((await a.next('signal')).from, wb.peerId);
    assert.equal(a.queue.filter((m) => m.type === 'peer-left').length, 0);
    await Promise.all([a, b].map((x) => x.close()));
    await Promise.all([p1.kill('SIGTERM'), p2.kill('SIGTERM')]);
  });

  test('a subscription Redis cut off (frames lost) sends the handed-over sockets to resume', async () => {
    const { p2, room, a, b, wa, wb } = await pairOnTwoNodes();
    const admin = new Redis(redis.url);
    try {
      // What Redis does to a subscriber that falls behind (client-output-buffer-limit pubsub).
      await admin.client('KILL', 'TYPE', 'pubsub');
    } finally {
      admin.disconnect();
    }
    assert.equal((await b.waitClose(5000)).code, 1012);
    const b2 = await connect(p2);
    const rb = await rejoin(b2, room, 'B', wb);
    assert.equal(rb.peerId, wb.peerId);
    b2.send({ type: 'signal', to: wa.peerId, kind: 'offer', sdp: 'after the gap' });
    assert.equal((await a.next((m) => m.type === 'signal' && m.sdp === 'after the gap')).from, wb.peerId);
    await Promise.all([a, b2].map((x) => x.close()));
  });

  test('when the process hosting a room dies, its peers reconnect to another and the room re-forms', async () => {
    const { p1, p2, room, a, b, wa, wb } = await pairOnTwoNodes();

    const killedAt = Date.now();
    await p1.kill('SIGKILL');
    assert.equal((await a.waitClose()).code, 1006);
    // p2 notices its host is gone and tells B to reconnect.
    const bClosed = await b.waitClose(8000);
    assert.equal(bClosed.code, 1012);
    const noticedMs = Date.now() - killedAt;

    // Both reconnect to p2 (a client's url list) and resume: the new host gives their ids back.
    const b2 = await connect(p2);
    const rb = await rejoin(b2, room, 'B', wb);
    assert.equal(rb.peerId, wb.peerId);
    // Knowing a peer id is not enough to take its seat on the new host.
    const thief = await connect(p2);
    thief.send({ type: 'join', v: 1, room, name: 'T', resume: { peerId: wa.peerId, secret: wb.secret } });
    assert.equal((await thief.next('error')).code, 'resume-rejected');
    const a2 = await connect(p2);
    const ra = await rejoin(a2, room, 'A', wa);
    assert.equal(ra.peerId, wa.peerId);
    assert.deepEqual(ra.peers.map((p) => p.id), [wb.peerId]);
    assert.equal((await b2.next('peer-joined')).peer.id, wa.peerId);
    a2.send({ type: 'signal', to: wb.peerId, kind: 'offer', sdp: 'after failover' });
    assert.equal((await b2.next('signal')).sdp, 'after failover');
    assert.ok(noticedMs < 8000, `noticed after ${noticedMs} ms`);

    // A third process joining later finds the room's new host.
    const p3 = await startNode(redis.url);
    nodes.push(p3);
    const c = await connect(p3);
    const wc = await c.join(room, 'C');
    assert.deepEqual(wc.peers.map((p) => p.id).sort(), [wa.peerId, wb.peerId].sort());
    await Promise.all([a2, b2, c].map((x) => x.close()));
    await Promise.all([p2.kill('SIGTERM'), p3.kill('SIGTERM')]);
  });

  test('an edge process that dies leaves its peers away (resumable), not gone', async () => {
    const { p1, p2, room, a, b, wa, wb } = await pairOnTwoNodes(); // host p1, edge p2
    await p2.kill('SIGKILL');
    await b.waitClose();
    // B comes back through p1 within the resume grace: A never hears it left.
    const b2 = await connect(p1);
    const rb = await rejoin(b2, room, 'B', wb);
    assert.equal(rb.resumed, true);
    assert.deepEqual(rb.peers.map((p) => p.id), [wa.peerId]);
    await sleep(2500); // past the host's liveness check of its edges
    assert.equal(a.queue.filter((m) => m.type === 'peer-left').length, 0);
    await Promise.all([a, b2].map((x) => x.close()));
    await p1.kill('SIGTERM');
  });

  test('a graceful shutdown (SIGTERM) hands the room to another process', async () => {
    const { p1, p2, room, a, b, wa, wb } = await pairOnTwoNodes();
    p1.kill('SIGTERM');
    assert.equal((await a.waitClose()).code, 1012);
    assert.equal((await b.waitClose()).code, 1012);
    assert.deepEqual(await p1.exited, { code: 0, signal: null });
    const b2 = await connect(p2);
    const a2 = await connect(p2);
    await rejoin(b2, room, 'B', wb);
    const ra = await rejoin(a2, room, 'A', wa);
    assert.deepEqual(ra.peers.map((p) => p.id), [wb.peerId]);
    await Promise.all([a2, b2].map((x) => x.close()));
    await p2.kill('SIGTERM');
  });
});
