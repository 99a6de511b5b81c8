// Rooms end to end: real Chromium pages, the real signaling server, the real wasm core.
// One browser for the whole file; each case uses its own room and closes its pages.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Env, waitUntil, sleep, fmt } from './harness.mjs';

let env;
before(async () => {
  env = await Env.create({ routedPages: true });
  env.serveFromDisk('/e2e/', 'tests/e2e/pages'); // tests/e2e/pages/room.html -> /e2e/room.html
});
beforeEach(() => { if (env) env.allPeers = []; });
afterEach(async () => { await env?.closePeers(); });

after(async () => { await env?.close(); });

let roomSeq = 0;
const newRoom = (label) => `${label}-${process.pid}-${++roomSeq}`;

/** Opens the pages, one after the other (joins in a known order) or all at once
 *  (`together`: the joins race each other), and waits until all joined.
 *  Returns the peers with their peer ids in `.id`. */
async function openAll(names, opts, { together = false } = {}) {
  const open = async (name) => {
    const p = await env.openPeer({ name, ...opts });
    p.id = (await p.waitJoined()).peerId;
    assert.ok(p.id, `${name} has a peer id`);
    return p;
  };
  if (together) return Promise.all(names.map(open));
  const peers = [];
  for (const name of names) peers.push(await open(name));
  return peers;
}

/** Every page knows every other page's peer id. */
async function waitFullyKnown(peers) {
  for (const p of peers) {
    const others = peers.filter((o) => o !== p).map((o) => o.id);
    await waitUntil(async () => {
      const ids = await p.remotePeerIds();
      return others.every((id) => ids.includes(id)) && ids;
    }, { timeout: 10000, message: `${p.name} lists peers ${fmt(others)}` });
  }
}

test('(a) two peers: chat both ways over the DataChannel and decode each other\'s video', async (ctx) => {
  const room = newRoom('two');
  const [a, b] = await openAll(['alice', 'bob'], { room, path: '/' }); // the demo, web/index.html
  await waitFullyKnown([a, b]);
  assert.notEqual(a.id, b.id);

  // Video both ways, and still flowing (framesDecoded increases between two samples).
  const sa = await a.waitDecodingFrom(1);
  const sb = await b.waitDecodingFrom(1);
  assert.deepEqual(sa.map((r) => r.peerId), [b.id], 'alice decodes bob on room.getPeerConnection(bob)');
  assert.deepEqual(sb.map((r) => r.peerId), [a.id]);
  // Audio too (the demo joins with camera and microphone).
  for (const p of [a, b]) {
    await waitUntil(async () => (await p.videoStats())[0]?.audioPackets > 0,
      { timeout: 5000, message: `${p.name}: inbound audio packets` });
  }

  // Chat, both ways. alice uses the demo's chat UI (#chat-input + submit: the demo sends
  // {type:'chat', text} to everyone); bob uses the API directly, addressed to alice only.
  await a.waitChannelsOpen(1);
  await b.waitChannelsOpen(1);
  await a.page.fill('#chat-input', 'hello bob, from alice');
  await a.page.press('#chat-input', 'Enter');
  await b.send(JSON.stringify({ type: 'chat', text: 'hi alice, bob here' }), { to: a.id });

  const gotB = await b.waitEvent('message', (e) => String(e.data).includes('hello bob, from alice'),
    { message: 'bob receives alice\'s chat message' });
  const gotA = await a.waitEvent('message', (e) => String(e.data).includes('hi alice, bob here'),
    { message: 'alice receives bob\'s direct message' });
  assert.equal(gotB.from, a.id, 'message event names the sender');
  assert.equal(gotA.from, b.id);
  assert.deepEqual(JSON.parse(gotB.data), { type: 'chat', text: 'hello bob, from alice' });
  // Both demos show the other's message in the chat log, attributed to the sender.
  for (const [p, from, text] of [[b, a.id, 'hello bob, from alice'], [a, b.id, 'hi alice, bob here']]) {
    await waitUntil(() => p.evaluate(([from, text]) => [...document.querySelectorAll('#chat-log li')]
      .some((li) => li.dataset.from === from && li.textContent.includes(text)), [from, text]),
    { timeout: 5000, message: `${p.name}: #chat-log shows "${text}" from ${from}` });
  }
  // Nobody received their own message.
  assert.ok(!(await a.messages()).some((m) => String(m.data).includes('hello bob, from alice')));
  env.checkPages(ctx);
});

test('(b) four peers in a full mesh: every peer decodes video from every other', async (ctx) => {
  const room = newRoom('mesh4');
  // 320x240 at 15 fps: 4 peers = 12 encoders and 12 decoders on 2 cores.
  const peers = await openAll(['p1', 'p2', 'p3', 'p4'],
    { room, path: '/e2e/room.html', query: { w: 320, h: 240, fps: 15 } }, { together: true });
  await waitFullyKnown(peers);
  assert.equal(new Set(peers.map((p) => p.id)).size, 4, 'four distinct peer ids');
  for (const p of peers) {
    const rows = await p.waitDecodingFrom(3, { timeout: 30000 });
    const ids = rows.filter((r) => r.framesDecoded > 0).map((r) => r.peerId);
    const others = peers.filter((o) => o !== p).map((o) => o.id).sort();
    assert.deepEqual([...ids].sort(), others, `${p.name} decodes from exactly the others`);
    assert.equal(rows.length, 3, `${p.name} has 3 live peer connections: ${fmt(rows)}`);
  }
  env.checkPages(ctx);
});

test('(c) a peer closes its page: the others get peerleft within 5 s', async (ctx) => {
  const room = newRoom('leave');
  const [a, b, c] = await openAll(['a', 'b', 'c'], { room, path: '/' });
  await waitFullyKnown([a, b, c]);
  await a.waitDecodingFrom(2);
  await b.waitDecodingFrom(2);

  const t0 = Date.now();
  await c.page.close({ runBeforeUnload: true });
  for (const p of [a, b]) {
    const left = Math.max(100, 5000 - (Date.now() - t0));
    const ev = await p.waitEvent('peerleft', (e) => (e.peerId ?? e.peer?.id ?? e.detail?.peerId) === c.id,
      { timeout: left, message: `${p.name}: peerleft for c (${c.id}) within 5 s of closing c's page` });
    assert.ok(ev);
  }
  const elapsed = Date.now() - t0;
  assert.ok(elapsed <= 5000, `peerleft took ${elapsed} ms`);
  ctx.diagnostic(`peerleft on both within ${elapsed} ms of closing the page`);
  for (const p of [a, b]) {
    await waitUntil(async () => !(await p.remotePeerIds()).includes(c.id),
      { timeout: 2000, message: `${p.name} drops c from room.peers` });
  }
  // The remaining pair is unaffected.
  await a.waitDecodingFrom(1);
  await b.waitDecodingFrom(1);
  assert.equal((await a.videoStats()).length, 1, 'a keeps exactly one live peer connection');
  env.checkPages(ctx);
});

test('(e) glare: both peers add a track in the same instant; the call survives', async (ctx) => {
  const room = newRoom('glare');
  const [a, b] = await openAll(['a', 'b'], { room, path: '/e2e/room.html', query: { w: 320, h: 240, fps: 15 } });
  await waitFullyKnown([a, b]);
  await a.waitDecodingFrom(1);
  await b.waitDecodingFrom(1);

  // Both pages prepare a canvas track, then call room.addTrack at one agreed wall-clock instant
  // (both renderers read the same machine clock). Outgoing offers are held 300 ms on their way
  // to the socket (a slow signaling path), so each side still has its own offer out when the
  // other's arrives: a certain collision, not a lucky one.
  const prepare = (p) => p.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 160; canvas.height = 120;
    const g = canvas.getContext('2d');
    let n = 0;
    setInterval(() => { g.fillStyle = `hsl(${(n++ * 7) % 360} 80% 50%)`; g.fillRect(0, 0, 160, 120); }, 40);
    window.__extra = canvas.captureStream(15).getVideoTracks()[0];
    return window.__extra.id;
  });
  await Promise.all([prepare(a), prepare(b)]);
  await Promise.all([a, b].map((p) => p.evaluate(() => window.__t.delayOffers(300))));
  const tracksBefore = await Promise.all([a, b].map(async (p) => (await p.events('track')).length));
  const at = Date.now() + 300;
  const fire = (p) => p.evaluate(async (at) => {
    while (Date.now() < at) await new Promise((r) => setTimeout(r, 0));
    const t = performance.now();
    await window.__t.room().addTrack(window.__extra);
    return t;
  }, at);
  await Promise.all([fire(a), fire(b)]);

  // New tracks arrive on both sides and both video streams decode on both sides.
  for (const [i, p] of [a, b].entries()) {
    await waitUntil(async () => {
      const ev = await p.events('track');
      return ev.length > tracksBefore[i] && ev.slice(tracksBefore[i]).some((e) => (e.track?.kind ?? e.kind) === 'video');
    }, { timeout: 10000, message: `${p.name}: a new remote video track after glare` });
    await waitUntil(async () => {
      const rows = await p.videoStats();
      return rows.length === 1 && rows[0].videoInbound >= 2 && rows[0].connectionState === 'connected' && rows;
    }, { timeout: 10000, message: `${p.name}: one connected pc with 2 inbound video streams` });
  }
  // Each inbound video stream decodes (not just the sum): look at per-stream counters.
  for (const p of [a, b]) {
    const perStream = () => p.evaluate(async () => {
      const { pc } = window.__t.livePcs()[0];
      const out = {};
      (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') out[s.ssrc] = s.framesDecoded || 0; });
      return out;
    });
    const first = await waitUntil(async () => {
      const s = await perStream();
      return Object.keys(s).length >= 2 && Object.values(s).every((n) => n > 0) && s;
    }, { timeout: 10000, message: `${p.name}: both inbound video streams decode` });
    await sleep(700);
    const second = await perStream();
    for (const ssrc of Object.keys(first)) {
      assert.ok(second[ssrc] > first[ssrc], `${p.name}: stream ${ssrc} still decoding: ${fmt([first, second])}`);
    }
  }
  // No errors surfaced to the app and no connection was rebuilt.
  for (const p of [a, b]) {
    const errors = await p.events('error');
    assert.deepEqual(errors, [], `${p.name}: error events ${fmt(errors)}`);
    const log = await p.sdpLog();
    assert.equal(log.length, 1, `${p.name}: still the first and only RTCPeerConnection`);
  }
  // The offers really crossed: both pages sent one, and the polite side took the other's offer
  // while its own was out (an explicit rollback or an implicit one in setRemoteDescription).
  const delayed = await Promise.all([a, b].map((p) => p.evaluate(() => window.__t.delayedOffers)));
  assert.ok(delayed.every((n) => n >= 1), `both pages sent an offer after addTrack: ${fmt(delayed)}`);
  const logs = await Promise.all([a, b].map((p) => p.sdpLog()));
  const tookOfferDuringOwn = logs.map((l) => l[0].sdp.some((e) => e.type === 'rollback'
    || (e.op === 'setRemoteDescription' && e.type === 'offer' && e.state === 'have-local-offer')));
  ctx.diagnostic(`collision handled by: ${tookOfferDuringOwn.map((x, i) => x ? ['a', 'b'][i] : null).filter(Boolean)}`);
  assert.equal(tookOfferDuringOwn.filter(Boolean).length, 1,
    `exactly one side (the polite one) yields in the collision: ${fmt(logs.map((l) => l[0].sdp))}`);
  env.checkPages(ctx);
});

test('getUserMedia refused during join: join() rejects with media-unavailable and the room is left', async (ctx) => {
  const room = newRoom('nomedia');
  const p = await env.openPeer({ room, name: 'shy', autojoin: false });
  const outcome = await p.evaluate(async (roomName) => {
    navigator.mediaDevices.getUserMedia = () =>
      Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    const { Room } = await import('/js-glue/index.js');
    try {
      await Room.join({ room: roomName, name: 'shy' });
      return { joined: true };
    } catch (err) {
      return { name: err.name, code: err.code, message: err.message };
    }
  }, room);
  assert.equal(outcome.code, 'media-unavailable', `join() outcome: ${JSON.stringify(outcome)}`);
  assert.match(outcome.message, /NotAllowedError|Permission denied/);
  // Nobody is left in the room on the server: a second peer joining finds it empty.
  const other = await env.openPeer({ room, name: 'next', path: '/e2e/room.html', query: { w: 320, h: 240, fps: 15 } });
  await other.waitJoined();
  const peers = await other.evaluate(() => window.__t.room().peers.size);
  assert.equal(peers, 0, 'the refused peer must not linger in the room');
  env.checkPages(ctx);
});
