// Bitrate and quality end to end (docs/architecture.md, "Bitrate and quality"): real Chromium
// pages in a mesh, the AbrCore from dist/chorus-media.mjs deciding, js-glue/bitrate.js
// executing.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Env, ROOT, waitUntil, sleep, fmt } from './harness.mjs';

// embind names live in the .wasm, so the module is asked rather than its text searched.
const media = await import(path.join(ROOT, 'dist/chorus-media.mjs')).then(({ default: create }) => create(), () => null);
assert.equal(typeof media?.AbrCore, 'function', 'dist/chorus-media exports the AbrCore (bash tools/build.sh wasm)');

let env;
before(async () => {
  env = await Env.create({ routedPages: true });
  env.serveFromDisk('/e2e/', 'tests/e2e/pages');
});
afterEach(async () => { await env?.closePeers(); });
after(async () => { await env?.close(); });

let roomSeq = 0;
const newRoom = (label) => `${label}-${process.pid}-${++roomSeq}`;

/**
 * Opens tests/e2e/pages/room.html (camera 320x240 at 15 fps and microphone) and joins with
 * `options`; the quality and stats events are recorded from the moment join() resolves, before
 * the controller's first sample.
 */
async function open(name, room, options = {}) {
  const p = await env.openPeer({ name, room, path: '/e2e/room.html', autojoin: false, query: { w: 320, h: 240, fps: 15 } });
  p.id = await p.evaluate(async (options) => {
    await window.join(options);
    const room = window.chorus.room;
    const rec = window.__abr = { quality: [], stats: 0, warnings: [] };
    room.addEventListener('quality', (e) => rec.quality.push({ peerId: e.peerId, score: e.score, audio: e.audio, video: e.video }));
    room.addEventListener('stats', (e) => { rec.stats++; rec.last = e.stats === room.stats; });
    room.addEventListener('warning', (e) => rec.warnings.push(`${e.code}: ${e.message}`));
    return room.peerId;
  }, options);
  assert.ok(p.id, `${name} joined`);
  return p;
}

/** The encodings of this page's mesh video sender to `peerId`, as getParameters() gives them. */
const videoEncodings = (p, peerId) => p.evaluate((peerId) => {
  const pc = window.chorus.room.getPeerConnection(peerId);
  const sender = pc?.getSenders().find((s) => s.track?.kind === 'video');
  return sender ? sender.getParameters().encodings.map((e) => ({ ...e })) : null;
}, peerId);

const snapshot = (p, peerId) => p.evaluate((peerId) => {
  const room = window.chorus.room;
  return { stats: room.stats, quality: room.peers.get(peerId)?.quality ?? null, rec: window.__abr };
}, peerId);

test('two pages in a mesh: room.stats, peer.quality, quality events, and a maxBitrate set by the controller', async (ctx) => {
  const room = newRoom('abr');
  const a = await open('alice', room);
  const b = await open('bob', room);
  await a.waitDecodingFrom(1, { timeout: 30000 });
  await b.waitDecodingFrom(1, { timeout: 30000 });

  for (const [p, other] of [[a, b], [b, a]]) {
    // A view of the other's video, as an app shows it (a size for the controller).
    await p.evaluate((id) => {
      const v = document.createElement('video');
      v.style.cssText = 'width: 320px; height: 240px';
      v.muted = true;
      v.srcObject = window.chorus.room.peers.get(id).stream;
      document.body.append(v);
      window.__detach = window.chorus.room.attachView(id, v);
    }, other.id);

    const s = await waitUntil(async () => {
      const snap = await snapshot(p, other.id);
      const st = snap.stats;
      return st && st.uplink?.budgetKbps > 0 && st.peers?.[other.id]?.receiveKbps > 0 && snap.quality?.audio
        && snap.quality?.video && snap.rec.quality.length > 0 ? snap : null;
    }, { timeout: 30000, message: `${p.name}: room.stats with an uplink budget and a receive rate from ${other.name}, peer.quality with audio and video, a quality event` });
    ctx.diagnostic(`${p.name}: stats ${fmt(s.stats)}; quality ${fmt(s.quality)}`);
    assert.equal(s.rec.last, true, 'the stats event carries room.stats');
    assert.ok(s.stats.uplink.sentKbps > 0, 'something was sent');
    assert.ok(s.stats.downlink.receivedKbps > 0, 'something was received');
    const q = s.quality;
    for (const score of [q.score, q.audio.score, q.video.score]) assert.ok(score >= 0 && score <= 5, `score ${score} within 0-5`);
    assert.equal(q.score, Math.min(q.audio.score, q.video.score), "a peer's score is the lower of its two");
    assert.ok(q.video.height > 0 && q.video.framesPerSecond > 0, `decoded video described: ${fmt(q.video)}`);
    const ev = s.rec.quality.find((e) => e.peerId === other.id);
    assert.ok(ev && ev.score >= 0 && ev.score <= 5, `a quality event for ${other.name}: ${fmt(s.rec.quality)}`);

    // The controller, not the browser, capped the video sender's encoding.
    const enc = await waitUntil(async () => {
      const e = await videoEncodings(p, other.id);
      return e?.length && e.every((x) => x.maxBitrate > 0) ? e : null;
    }, { timeout: 15000, message: `${p.name}: a maxBitrate on the video sender to ${other.name}` });
    ctx.diagnostic(`${p.name} -> ${other.name}: encodings ${fmt(enc)}`);
    assert.ok(enc[0].maxBitrate <= 2500000, 'within the maxVideoKbps default');
  }

  // Hiding the view reports 0 x 0; nothing breaks, samples go on.
  const before = (await snapshot(a, b.id)).rec.stats;
  await a.evaluate(() => { document.querySelector('body > video').style.display = 'none'; });
  await waitUntil(async () => (await snapshot(a, b.id)).rec.stats >= before + 2, { timeout: 10000, message: 'alice: stats go on after hiding the view' });
  await a.evaluate(() => window.__detach());
  const warnings = (await snapshot(a, b.id)).rec.warnings;
  if (warnings.length) ctx.diagnostic(`alice warnings: ${fmt(warnings)}`);
  env.checkPages(ctx);
});

test('adaptiveBitrate: false measures and scores, but leaves the senders to the browser', async (ctx) => {
  const room = newRoom('abr-off');
  const a = await open('alice', room, { adaptiveBitrate: false });
  const b = await open('bob', room, { adaptiveBitrate: false });
  await a.waitDecodingFrom(1, { timeout: 30000 });
  await waitUntil(async () => {
    const snap = await snapshot(a, b.id);
    return snap.stats?.peers?.[b.id]?.receiveKbps > 0 && snap.quality ? snap : null;
  }, { timeout: 30000, message: 'alice: room.stats and peer.quality without control' });
  // A few more samples: still nothing set on the sender.
  const seen = (await snapshot(a, b.id)).rec.stats;
  await waitUntil(async () => (await snapshot(a, b.id)).rec.stats >= seen + 3, { timeout: 15000, message: 'alice: three more samples' });
  const enc = await videoEncodings(a, b.id);
  assert.ok(enc?.length, 'a video sender');
  assert.ok(enc.every((e) => e.maxBitrate === undefined), `no maxBitrate without control: ${fmt(enc)}`);
  await sleep(0);
  env.checkPages(ctx);
});
