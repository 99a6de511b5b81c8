// Push-to-talk voice end to end: real Chromium pages on Room.pushToTalk()
// (tests/e2e/pages/voice.html) with the fake microphone, the real signaling server for the
// floor, Opus in the AudioWorklets, voice frames on the real unreliable DataChannel, and the
// core's VoiceReceiver deciding what plays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Env, waitUntil, sleep } from './harness.mjs';

let env;
before(async () => {
  env = await Env.create({ routedPages: true });
  env.serveFromDisk('/e2e/', 'tests/e2e/pages');
});
after(async () => { await env?.close(); });

let rooms = 0;
async function openRoom(names, queries = {}) {
  const room = `voice-${process.pid}-${++rooms}`;
  const peers = [];
  for (const name of names) {
    const p = await env.openPeer({ room, name, path: '/e2e/voice.html', query: queries[name] ?? {} });
    p.id = (await p.waitJoined()).peerId;
    await waitUntil(() => p.evaluate(() => window.voice.ready), { timeout: 15000, message: `${name}: push-to-talk ready` });
    peers.push(p);
  }
  // Voice needs the unreliable channel to every peer open.
  for (const p of peers) {
    await waitUntil(() => p.evaluate((n) => window.voice.openChannels() >= n, peers.length - 1),
      { timeout: 20000, message: `${p.name}: unreliable channel open to every peer` });
  }
  return peers;
}

const state = (p) => p.evaluate(() => {
  const v = window.voice;
  return { loud: v.loudWindows, windows: v.windows, talk: v.talk, packets: v.packets, errors: v.errors, stats: v.stats, onsets: v.onsets };
});

/** Mouth-to-ear from the beeps: each playout onset against the talker's capture onset before it. */
function latencies(capture, playout) {
  const out = [];
  for (const t of playout) {
    const before = capture.filter((c) => c <= t).at(-1);
    if (before !== undefined && t - before < 400) out.push(t - before);
  }
  return out.sort((a, b) => a - b);
}

test('one talker, three listeners hear decoded audio; a second talker is denied until the first releases', async (ctx) => {
  // Dave listens only: no microphone is opened, and he cannot talk.
  const [alice, bob, carol, dave] = await openRoom(['alice', 'bob', 'carol', 'dave'], { dave: { mic: 'off' } });
  assert.deepEqual(await dave.evaluate(() => window.voice.press()), { error: { code: 'media-unavailable', holder: undefined, reason: undefined } });
  assert.equal(await dave.evaluate(() => window.voice.ptt.canTalk), false);
  const listeners = [bob, carol, dave];
  const before = await Promise.all(listeners.map(state));

  const granted = await alice.evaluate(() => window.voice.press());
  assert.ok(granted.granted?.epoch > 0, JSON.stringify(granted));
  // Bob is denied while Alice talks, and told who holds the floor.
  const denied = await bob.evaluate(() => window.voice.press());
  assert.deepEqual(denied.error, { code: 'floor-denied', holder: alice.id, reason: 'busy' });

  await sleep(2500);
  for (const [i, p] of listeners.entries()) {
    const s = await state(p);
    assert.ok(s.talk.some((t) => t.type === 'start' && t.peer === alice.id), `${p.name} saw alice start talking: ${JSON.stringify(s.talk)}`);
    assert.ok((s.packets[alice.id] ?? 0) >= 80, `${p.name} accepted alice's packets: ${JSON.stringify(s.packets)}`);
    assert.ok(s.stats.decoded >= 80, `${p.name} decoded them: ${JSON.stringify(s.stats)}`);
    // The fake microphone beeps twice a second (~0.1 s each): the output was silent before
    // the press, and now beeps are heard (loud 50 ms windows, and onsets in the playout worklet).
    assert.equal(before[i].loud, 0, `${p.name}: silence before anyone talked`);
    const loud = s.loud - before[i].loud;
    assert.ok(loud >= 4, `${p.name}: non-silent output in ${loud} of ${s.windows - before[i].windows} windows`);
    assert.ok(s.onsets.playout.length >= 3, `${p.name}: ${s.onsets.playout.length} beeps played`);
    assert.deepEqual(s.errors, [], `${p.name}: no voice errors`);
    const lat = latencies((await state(alice)).onsets.capture, s.onsets.playout);
    ctx.diagnostic(`${p.name}: mouth-to-ear ${lat.map((x) => x.toFixed(0)).join(' ')} ms; target ${s.stats.targetMs.toFixed(0)} ms, jitter ${s.stats.jitterMs.toFixed(1)} ms, concealed ${s.stats.concealed}`);
    assert.ok(lat.length >= 2, `${p.name}: beeps matched on both ends`);
  }
  // Alice does not hear herself; what she sent was reported to her app.
  assert.equal((await state(alice)).packets[alice.id] ?? 0, 0);
  assert.ok(await alice.evaluate(() => window.voice.sent) >= 100, 'sentpacket events');

  await alice.evaluate(() => window.voice.release());
  for (const p of listeners) {
    await waitUntil(async () => (await state(p)).talk.some((t) => t.type === 'end' && t.peer === alice.id),
      { timeout: 5000, message: `${p.name}: alice's burst ended` });
  }
  await waitUntil(() => carol.evaluate(() => window.voice.room.floor.holder === null), { timeout: 5000, message: 'floor released' });

  const second = await bob.evaluate(() => window.voice.press());
  assert.ok(second.granted?.epoch > granted.granted.epoch, JSON.stringify(second));
  await waitUntil(async () => ((await state(carol)).packets[bob.id] ?? 0) >= 40, { timeout: 8000, message: 'carol hears bob' });
  await waitUntil(async () => ((await state(alice)).packets[bob.id] ?? 0) >= 40, { timeout: 8000, message: 'alice hears bob' });
  await bob.evaluate(() => window.voice.release());
  env.checkPages(ctx);
});

test('voice without the floor, corrupt Opus and absurd numbers: typed errors, playout goes on', async (ctx) => {
  const [alice, mallory, carol] = await openRoom(['alice', 'mallory', 'carol']);
  const granted = await alice.evaluate(() => window.voice.press());
  const epoch = granted.granted.epoch;
  await waitUntil(async () => ((await state(carol)).packets[alice.id] ?? 0) >= 20, { timeout: 8000, message: 'carol hears alice' });

  // Mallory talks over Alice with Alice's epoch, and with a made-up future epoch.
  await mallory.evaluate((e) => {
    const payload = new Uint8Array([0x48, 0x0b, 0xe4, 0x0f, 1, 2, 3, 4]);
    for (let s = 0; s < 30; s++) window.rogue({ epoch: e, seq: s, payload });
    for (let s = 0; s < 30; s++) window.rogue({ epoch: e + 7, seq: s, payload });
  }, epoch);
  // Alice's own page sends garbage under her real epoch: corrupt packets, absurd numbers.
  await alice.evaluate((e) => {
    const garbage = new Uint8Array([0x7b, 0x00, 9, 9, 9, 9, 9, 9]);  // code 3, zero frames
    for (let s = 0; s < 3; s++) window.rogue({ epoch: e, seq: 4000000 + s, payload: garbage });
    window.rogue({ epoch: e, seq: 1_000_000_000, timestamp: 7, payload: garbage });
  }, epoch);
  const c = await waitUntil(async () => {
    const s = await state(carol);
    const codes = new Set(s.errors.map((x) => x.code));
    return codes.has('floor-violation') && codes.has('bad-audio') ? s : null;
  }, { timeout: 5000, message: 'carol reports floor-violation and bad-audio' });
  const violation = c.errors.find((x) => x.code === 'floor-violation');
  assert.equal(violation.peer, mallory.id);
  assert.equal(c.packets[mallory.id] ?? 0, 0, 'nothing of mallory was accepted');
  // Reported once per peer and burst, not once per packet.
  assert.ok(c.errors.length <= 4, JSON.stringify(c.errors));
  // Alice is still heard.
  const before = c.packets[alice.id];
  await waitUntil(async () => (await state(carol)).packets[alice.id] >= before + 25, { timeout: 5000, message: 'alice still heard' });
  const after = await state(carol);
  assert.ok(after.stats.violations >= 1);
  await alice.evaluate(() => window.voice.release());
  env.checkPages(ctx);
});

test('bad encoder options reject pushToTalk() with a RangeError instead of hanging', async (ctx) => {
  const p = await env.openPeer({ room: `voice-${process.pid}-bad`, name: 'eve', path: '/e2e/voice.html', query: { opus: JSON.stringify({ bitrate: 1 }) } });
  await p.waitJoined();
  const error = await waitUntil(() => p.evaluate(() => window.joinError), { timeout: 15000, message: 'pushToTalk rejected' });
  assert.match(error, /RangeError: capture: OpusEncoder: bitrate must be 6000\.\.510000/);
  env.checkPages(ctx);
});
