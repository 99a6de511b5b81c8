// Scale-out end to end: two real signaling server processes sharing rooms over a private Redis
// (tools/server/cluster/), two Chromium pages in one room, each connected to a different
// process. Then the process hosting the room is SIGKILLed in the middle of the call: both rooms
// must go 'reconnecting' -> 'joined' through the surviving process with the same peer ids, and
// video must keep decoding both ways. The Node-level version (no browser) is
// tests/node/cluster.test.mjs.
//
//   bash tools/netns-run.sh node --test --test-concurrency=1 tests/e2e/cluster.test.mjs
//
// Prints one line with the failover times (kill -> rejoined, kill -> first frame decoded after
// the kill, kill -> first frame decoded after the rejoin) per page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Env, HOST, ROOT, SLOW, freePort, waitUntil, sleep, fmt } from './harness.mjs';
import { startRedis } from '../../tools/redis/redis.mjs';

const CLI = path.join(ROOT, 'tools', 'server', 'cli.mjs');
/** Generous bound on every failover step, so a loaded 2-core machine does not flake. */
const FAILOVER_BOUND_MS = 20000;

const children = new Set();
process.on('exit', () => { for (const c of children) try { c.kill('SIGKILL'); } catch {} });

/** `chorus-rtc-server --redis URL` on a free port of HOST (the namespace's address, so pages
 *  can reach it); resolves once /healthz answers 200. */
async function startNode(redisUrl, name) {
  const port = await freePort(HOST);
  const child = spawn(process.execPath, [CLI, '--port', String(port), '--host', HOST, '--redis', redisUrl], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CHORUS_LOG_FORMAT: 'json', CHORUS_LOG_LEVEL: 'info' },
  });
  children.add(child);
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  const origin = `http://${HOST}:${port}`;
  const deadline = Date.now() + 10000 * SLOW;
  for (;;) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch { /* not listening yet */ }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} (port ${port}) did not start:\n${output}`);
    }
    await sleep(50);
  }
  return {
    name, port, origin, wsUrl: `ws://${HOST}:${port}/`, child, exited,
    output: () => output,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    /** The room machine's gauges from /metrics: {rooms, peers, connections}. */
    async gauges() {
      const text = await (await fetch(`${origin}/metrics`)).text();
      const read = (metric) => Number(text.match(new RegExp(`^${metric} (\\S+)$`, 'm'))?.[1] ?? NaN);
      return { rooms: read('chorus_rooms'), peers: read('chorus_peers'), connections: read('chorus_connections') };
    },
  };
}

let redis;
let env;
const nodes = [];

before(async () => {
  redis = await startRedis();
  nodes.push(await startNode(redis.url, 'P1'), await startNode(redis.url, 'P2'));
  env = await Env.create({ server: 'none', origins: nodes.map((n) => n.origin), routedPages: true });
  env.serveFromDisk('/e2e/', 'tests/e2e/pages'); // tests/e2e/pages/room.html -> /e2e/room.html
});

after(async () => {
  // Each step on its own: a failure in one must not leave the others running.
  await env?.close().catch(() => {});
  await Promise.all(nodes.map((n) => n.kill('SIGKILL').catch(() => {})));
  await redis?.stop().catch(() => {});
});

// Runs in the page after it joined: records statechange (wall clock, comparable with Node's)
// and samples framesDecoded of every RTCPeerConnection ever created, every 100 ms.
function installMonitor() {
  const room = window.chorus.room;
  const m = window.__cluster = { states: [], samples: [] };
  room.addEventListener('statechange', (e) => m.states.push({ state: e.state ?? room.state, t: Date.now() }));
  const sample = async () => {
    const row = { t: Date.now(), frames: {}, conn: {} };
    await Promise.all(window.__t.pcs.map(async ({ pc }, i) => {
      row.conn[i] = pc.connectionState;
      if (pc.connectionState === 'closed') return;
      let frames = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0;
      });
      row.frames[i] = frames;
    }));
    m.samples.push(row);
  };
  m.timer = setInterval(() => { sample().catch(() => {}); }, 100);
}

/** Opens room.html (served through P2's origin) and joins with a list of signaling URLs. */
async function joinPage(room, name, urls) {
  const p = await env.openPeer({ room, name, path: '/e2e/room.html', origin: nodes[1].origin, autojoin: false });
  p.id = await p.evaluate((url) => window.join({ url }), urls);
  assert.ok(p.id, `${name} has a peer id`);
  await p.evaluate(installMonitor);
  return p;
}

const monitor = (p) => p.evaluate(() => ({ states: window.__cluster.states, samples: window.__cluster.samples }));

/** First sample after time t in which some peer connection decoded more frames than it had
 *  at the last sample at or before t (a new connection counts from 0). */
function firstNewFrame(samples, t) {
  const base = [...samples].reverse().find((s) => s.t <= t)?.frames ?? {};
  return samples.find((s) => s.t > t && Object.entries(s.frames).some(([i, f]) => f > (base[i] ?? 0))) ?? null;
}

/** Longest time between two samples at which frames increased, within [from, to]. */
function longestStall(samples, from, to) {
  let last = null;
  let prev = null;
  let worst = 0;
  for (const s of samples) {
    const grew = prev && Object.entries(s.frames).some(([i, f]) => f > (prev.frames[i] ?? 0));
    prev = s;
    if (!grew || s.t < from || s.t > to) continue;
    if (last !== null) worst = Math.max(worst, s.t - last);
    last = s.t;
  }
  return worst;
}

test('two pages on two processes meet; the host process is SIGKILLed; both resume on the other with video both ways', { timeout: 55000 * SLOW }, async (ctx) => {
  const [p1, p2] = nodes;
  const room = `cluster-e2e-${process.pid}`;
  const diag = async () => `\n${await a?.describe()}\n${await b?.describe()}` +
    `\nP1 log tail:\n${p1.output().slice(-1500)}\nP2 log tail:\n${p2.output().slice(-1500)}`;
  let a, b;
  try {
    // A joins first, through P1: P1 claims the room and hosts it. B comes in through P2, which
    // hands its socket to P1.
    a = await joinPage(room, 'a', [p1.wsUrl, p2.wsUrl]);
    b = await joinPage(room, 'b', [p2.wsUrl, p1.wsUrl]);
    assert.notEqual(a.id, b.id);
    await waitUntil(async () => (await a.remotePeerIds()).includes(b.id) && (await b.remotePeerIds()).includes(a.id),
      { timeout: 10000, message: 'a and b know each other' });
    assert.deepEqual(await p1.gauges().then((g) => [g.rooms, g.peers]), [1, 2], 'P1 hosts the room with both peers');
    assert.deepEqual(await p2.gauges().then((g) => [g.rooms, g.peers]), [0, 0], 'P2 hosts nothing (B is handed over)');

    for (const p of [a, b]) {
      await waitUntil(async () => {
        const rows = await p.videoStats();
        return rows.length === 1 && rows[0].connectionState === 'connected' && rows;
      }, { timeout: 15000, message: `${p.name}: one peer connection, connected` });
    }
    await a.waitDecodingFrom(1);
    await b.waitDecodingFrom(1);
    const pcsBefore = await Promise.all([a, b].map(async (p) => (await p.sdpLog()).length));
    await sleep(500); // a few samples before the kill

    // ---- the host dies ----
    const killedAt = Date.now();
    const { signal } = await p1.kill('SIGKILL');
    assert.equal(signal, 'SIGKILL');

    const rejoinedAt = {};
    for (const p of [a, b]) {
      const seen = await waitUntil(async () => {
        const { states } = await monitor(p);
        const after = states.filter((s) => s.t >= killedAt);
        const r = after.findIndex((s) => s.state === 'reconnecting');
        const j = r < 0 ? -1 : after.findIndex((s, i) => i > r && s.state === 'joined');
        return j >= 0 && { after, joined: after[j] };
      }, { timeout: FAILOVER_BOUND_MS, message: `${p.name}: statechange 'reconnecting' then 'joined' after the kill` });
      rejoinedAt[p.name] = seen.joined.t;
      assert.equal(await p.roomState(), 'joined', `${p.name}: room.state`);
      ctx.diagnostic(`${p.name} states after the kill: ${seen.after.map((s) => `${s.state}@+${s.t - killedAt}`).join(' ')}`);
    }

    // Same seats: same ids, each still knowing the other, nobody left.
    assert.equal(await a.peerId(), a.id, 'a resumed with its peer id');
    assert.equal(await b.peerId(), b.id, 'b resumed with its peer id');
    assert.deepEqual(await a.remotePeerIds(), [b.id]);
    assert.deepEqual(await b.remotePeerIds(), [a.id]);
    for (const p of [a, b]) assert.deepEqual(await p.events('peerleft'), [], `${p.name}: no peerleft`);
    // The room lives on P2 now.
    assert.deepEqual(await p2.gauges().then((g) => [g.rooms, g.peers, g.connections]), [1, 2, 2],
      'P2 hosts the room with both peers and both sockets');

    // Video decodes both ways after the failover, well past what it had at the kill.
    const MARGIN = 30; // frames: 2 s at the page's 15 fps
    const afterKill = {};
    for (const p of [a, b]) {
      const { samples } = await monitor(p);
      const atKill = [...samples].reverse().find((s) => s.t <= killedAt);
      assert.ok(atKill, `${p.name}: sampled before the kill`);
      const killFrames = Object.values(atKill.frames).reduce((x, y) => x + y, 0);
      const end = await waitUntil(async () => {
        const rows = await p.videoStats();
        return rows.length === 1 && rows[0].connectionState === 'connected' &&
          rows[0].framesDecoded > killFrames + MARGIN && rows;
      }, { timeout: FAILOVER_BOUND_MS, message: `${p.name}: connected and framesDecoded > ${killFrames} + ${MARGIN} after the kill` });
      afterKill[p.name] = { killFrames, end: end[0].framesDecoded };
    }
    const pcsAfter = await Promise.all([a, b].map(async (p) => (await p.sdpLog()).length));
    assert.deepEqual(pcsAfter, pcsBefore, 'no RTCPeerConnection was created by the failover');

    // Timings, from the pages' own samples (wall clock, 100 ms resolution).
    const timing = {};
    for (const p of [a, b]) {
      const { samples } = await monitor(p);
      const first = firstNewFrame(samples, killedAt);
      const firstAfterRejoin = firstNewFrame(samples, rejoinedAt[p.name]);
      assert.ok(first && firstAfterRejoin, `${p.name}: frames decoded after the kill and after the rejoin`);
      timing[p.name] = {
        rejoined: rejoinedAt[p.name] - killedAt,
        firstFrame: first.t - killedAt,
        firstFrameAfterRejoin: firstAfterRejoin.t - killedAt,
        stall: longestStall(samples, killedAt, rejoinedAt[p.name]),
      };
      assert.ok(timing[p.name].rejoined < FAILOVER_BOUND_MS, `${p.name}: rejoined within ${FAILOVER_BOUND_MS} ms`);
    }
    const line = (k) => `a=${timing.a[k]}ms b=${timing.b[k]}ms`;
    console.log(`cluster failover (SIGKILL of the room's host): kill->rejoined ${line('rejoined')}; ` +
      `kill->first new frame ${line('firstFrame')}; kill->first frame after rejoin ${line('firstFrameAfterRejoin')}; ` +
      `longest decode stall during the outage ${line('stall')}; frames at kill/end a=${afterKill.a.killFrames}/${afterKill.a.end} ` +
      `b=${afterKill.b.killFrames}/${afterKill.b.end}`);
    // What the surviving process did about it (its cluster log lines, relative to the kill).
    for (const l of p2.output().split('\n')) {
      let e;
      try { e = JSON.parse(l); } catch { continue; }
      if (!/^cluster:/.test(e.msg ?? '') || Date.parse(e.time) < killedAt) continue;
      const { time, msg, level, pid, ...rest } = e;
      ctx.diagnostic(`P2 +${Date.parse(time) - killedAt}ms ${level} ${msg} ${fmt(rest)}`);
    }

    env.checkPages(ctx);
  } catch (e) {
    e.message += await diag().catch(() => '');
    throw e;
  }
});
