// The signaling server dies (SIGKILL) and comes back on the same port in the middle of a call.
// Media never touches the server, so video must keep flowing through the outage; the rooms must
// report `reconnecting`, then `joined` again with the same peer ids (resume), and the room must
// still work for a newcomer afterwards.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Env, HOST, freePort, startServerProcess, waitUntil, sleep, fmt } from './harness.mjs';

let env;
let server;
after(async () => {
  await server?.kill();
  await env?.close();
});

test('(d) server killed and restarted mid-call: media continues, rooms resume, newcomer connects', async (ctx) => {
  const port = await freePort();
  server = await startServerProcess({ port });
  env = await Env.create({ server: 'none', origins: [server.origin] });
  env.origin = server.origin;
  const room = `restart-${process.pid}`;

  const a = await env.openPeer({ room, name: 'a', path: '/' });
  a.id = (await a.waitJoined()).peerId;
  const b = await env.openPeer({ room, name: 'b', path: '/' });
  b.id = (await b.waitJoined()).peerId;
  await a.waitDecodingFrom(1);
  await b.waitDecodingFrom(1);
  const pcsBefore = await Promise.all([a, b].map(async (p) => (await p.sdpLog()).length));

  // Sample framesDecoded and the room state every ~250 ms from before the kill until both rooms
  // are joined again (and a little after).
  const samples = []; // {t, phase, a: {frames, state}, b: {...}}
  let phase = 'before';
  let sampling = true;
  const sample = (p) => p.evaluate(async () => {
    const stats = await window.__t.videoStats();
    return { frames: stats.reduce((s, r) => s + r.framesDecoded, 0), pcs: stats.length,
      state: window.__t.room()?.state ?? null };
  });
  const sampler = (async () => {
    while (sampling) {
      const t = Date.now();
      const [ra, rb] = await Promise.all([sample(a), sample(b)]);
      samples.push({ t, phase, a: ra, b: rb });
      await sleep(Math.max(0, 250 - (Date.now() - t)));
    }
  })();

  await sleep(750);
  phase = 'down';
  const killedAt = Date.now();
  const { signal } = await server.kill('SIGKILL');
  assert.equal(signal, 'SIGKILL');

  // Both rooms notice and say so.
  for (const p of [a, b]) {
    await waitUntil(async () => (await p.roomState()) === 'reconnecting',
      { timeout: 8000, message: `${p.name}: room.state 'reconnecting' after the server died` });
  }
  await sleep(2500); // a real outage: a few reconnect attempts fail
  phase = 'restarting';
  server = await startServerProcess({ port });
  const restartedAt = Date.now();
  phase = 'up';
  for (const p of [a, b]) {
    await waitUntil(async () => (await p.roomState()) === 'joined',
      { timeout: 15000, message: `${p.name}: room.state back to 'joined' after the restart` });
  }
  const rejoinedAt = Date.now();
  await sleep(1000);
  sampling = false;
  await sampler;
  ctx.diagnostic(`outage ${restartedAt - killedAt} ms, rejoined ${rejoinedAt - restartedAt} ms after restart, ${samples.length} samples`);

  // Same peer ids, same peer connections, still knowing each other.
  assert.equal(await a.peerId(), a.id, 'a keeps its peer id');
  assert.equal(await b.peerId(), b.id, 'b keeps its peer id');
  assert.deepEqual(await a.remotePeerIds(), [b.id]);
  assert.deepEqual(await b.remotePeerIds(), [a.id]);
  const pcsAfter = await Promise.all([a, b].map(async (p) => (await p.sdpLog()).length));
  assert.deepEqual(pcsAfter, pcsBefore, 'no RTCPeerConnection was created during the outage');

  // Video decoded throughout: at every sample, on both sides, more frames than at the previous.
  const states = new Set();
  for (let i = 1; i < samples.length; i++) {
    for (const k of ['a', 'b']) {
      const prev = samples[i - 1][k];
      const cur = samples[i][k];
      states.add(cur.state);
      assert.equal(cur.pcs, 1, `${k}: one live peer connection at sample ${i} (${samples[i].phase}): ${fmt(cur)}`);
      assert.ok(cur.frames > prev.frames,
        `${k}: framesDecoded did not increase between samples ${i - 1} and ${i} (${samples[i].phase}, ` +
        `${samples[i].t - samples[i - 1].t} ms): ${prev.frames} -> ${cur.frames}`);
    }
  }
  const down = samples.filter((s) => s.phase === 'down').length;
  const gaps = samples.slice(1).map((s, i) => s.t - samples[i].t);
  ctx.diagnostic(`${down} samples while the server was down; sample gaps max ${Math.max(...gaps)} ms, ` +
    `median ${gaps.sort((x, y) => x - y)[gaps.length >> 1]} ms`);
  assert.ok(down >= 4, `sampled through the outage (${down} samples)`);
  assert.ok(Math.max(...gaps) <= 1500, `samples at most 1.5 s apart (max gap ${Math.max(...gaps)} ms)`);
  assert.ok(states.has('reconnecting') && states.has('joined'), `states seen: ${[...states]}`);

  // The apps were told: statechange reconnecting -> joined, and nobody left.
  for (const p of [a, b]) {
    const seq = (await p.events('statechange')).map((e) => e.state ?? e.detail?.state);
    const i = seq.lastIndexOf('reconnecting');
    assert.ok(i >= 0 && seq.slice(i).includes('joined'), `${p.name} statechange sequence ${fmt(seq)}`);
    const left = await p.events('peerleft');
    assert.deepEqual(left, [], `${p.name}: no peerleft during a server restart`);
  }

  // A newcomer joins the same room on the restarted server and connects to everybody.
  const c = await env.openPeer({ room, name: 'c', path: '/' });
  c.id = (await c.waitJoined()).peerId;
  assert.ok(![a.id, b.id].includes(c.id));
  await c.waitDecodingFrom(2);
  await a.waitDecodingFrom(2);
  await b.waitDecodingFrom(2);
  await c.waitChannelsOpen(2);
  // And the DataChannel works across the old and new peers.
  await c.send('hello from the newcomer');
  for (const p of [a, b]) {
    await p.waitEvent('message', (e) => e.data === 'hello from the newcomer' && e.from === c.id);
  }
  for (const w of env.libraryWarnings()) ctx.diagnostic(`library warning: ${w}`);
  assert.deepEqual(env.pageErrors(), [], 'uncaught errors in the pages');
});
