// Adaptive bitrate in Chromium on a shaped link (issue 6). Each peer runs in its own network
// namespace with its own Chromium (tests/e2e/shaped-net.mjs); the sender's camera is a heavy
// generated y4m (tests/e2e/y4m.mjs) so that the link, not the source, limits the bitrate; the
// sender's uplink is a tbf.
//
//   bash tools/netns-run.sh node --test tests/e2e/abr.test.mjs
//
// The bounds are loose on purpose (a busy 2-core machine); tools/bench/abr.mjs measures the
// timing. When the glue has the Room option `adaptiveBitrate`, the pages run with it on (the
// default) and the recovery bound is the issue's; before that the pages run the plain Room
// (Chromium's own adaptation), whose recovery is only checked not to stay below the low link.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, sleep, SLOW, fmt } from './harness.mjs';
import {
  openRig, Sampler, glueHasAdaptiveBitrate, HEAVY, meshHosts, sentBytes, windowRates, inbound,
  meanRate, longestStall, between, findNumber, waitFirstFrames,
} from './abr-scenario.mjs';

// The controller must be there (a dist/ without the AbrCore would test Chromium alone).
assert.ok(glueHasAdaptiveBitrate(), 'the glue has adaptiveBitrate and dist/chorus-media.wasm the AbrCore (bash tools/build.sh wasm)');
const HIGH = 3000;
const LOW = 500;

let server;
before(async () => { server = await startTestServer(); });
after(async () => { await server?.close(); });

const lastRate = (rates) => rates.at(-1)?.kbps;
const kb = (x) => (x == null ? 'n/a' : `${Math.round(x)} kbit/s`);

test('(a) two peers: the sender follows its uplink down to 500 kbit/s and back up to 3 Mbit/s; video keeps decoding', async (ctx) => {
  const rig = await openRig({
    server, room: `abr-a-${process.pid}`, adaptive: undefined, // the Room's default (adaptiveBitrate on, once the glue has it)
    hosts: [
      { name: 'A', heavy: HEAVY, shape: { rateKbit: HIGH } },
      { name: 'B', w: 320, h: 240, fps: 15 }, // the built-in fake camera: light
    ],
  });
  const [a, b] = rig.peers;
  const sa = new Sampler(a, 500);
  const sb = new Sampler(b, 500);
  try {
    await b.waitDecodingFrom(1, { timeout: 30000 });
    sa.start();
    sb.start();
    const uplink = (s) => sentBytes(s, { peerId: b.id });
    const rates = () => windowRates(sa.samples, uplink);

    // Steady 3 Mbit/s: the heavy source sends well above what the built-in camera does
    // (~0.5 Mbit/s) and not above the link.
    await sleep(8000);
    const t0 = Date.now();
    const steady = meanRate(sa.samples, uplink, t0 - 6000, t0);
    ctx.diagnostic(`steady at ${HIGH} kbit/s: A sends ${kb(steady)}`);
    assert.ok(steady > 800, `A sends more than 800 kbit/s on a ${HIGH} kbit/s link (heavy source): ${kb(steady)}`);
    assert.ok(steady < HIGH * 1.1, `A sends no more than its ${HIGH} kbit/s link: ${kb(steady)}`);

    // Drop to 500 kbit/s: A's 1-s send rate must go below it.
    rig.net.shape(rig.hosts[0], { rateKbit: LOW });
    const tDrop = Date.now();
    const below = await sa.waitFor(() => {
      const r = rates().filter((x) => x.wall > tDrop);
      return r.find((x) => x.kbps < LOW);
    }, 25000 * SLOW);
    const dropRates = rates().filter((x) => x.wall > tDrop).map((x) => Math.round(x.kbps));
    assert.ok(below, `A's 1-s send rate went below ${LOW} kbit/s within 25 s of the drop; rates: ${fmt(dropRates)}`);
    ctx.diagnostic(`below ${LOW} kbit/s ${below.wall - tDrop} ms after the drop`);
    // Stay on the low link for a while: video keeps decoding at B.
    await sleep(Math.max(0, tDrop + 15000 - Date.now()));
    const tLowEnd = Date.now();
    const lowRate = meanRate(sa.samples, uplink, tDrop + 8000, tLowEnd);
    const framesLow = inbound(between(sb.samples, tLowEnd - 1000).at(-1) ?? sb.samples.at(-1), a.id).framesDecoded
      - inbound(between(sb.samples, tDrop).at(0), a.id).framesDecoded;
    const stall = longestStall(sb.samples, a.id, tDrop, tLowEnd);
    ctx.diagnostic(`on ${LOW} kbit/s: A sends ${kb(lowRate)} (from 8 s after the drop), B decoded ${framesLow} frames in 15 s, longest stall ${stall} ms`);
    assert.ok(lowRate < LOW * 1.15, `after settling, A sends about its ${LOW} kbit/s link or less: ${kb(lowRate)}`);
    assert.ok(framesLow >= 30, `B keeps decoding A's video on the low link (>= 30 frames in 15 s): ${framesLow}`);
    assert.ok(stall <= 10000, `B's longest stretch without a new decoded frame is at most 10 s: ${stall} ms`);

    // Back to 3 Mbit/s: the bitrate climbs back.
    rig.net.shape(rig.hosts[0], { rateKbit: HIGH });
    const tUp = Date.now();
    const target = HIGH / 2;
    const up = await sa.waitFor(() => rates().find((x) => x.wall > tUp && x.kbps >= target), 40000 * SLOW);
    const upRates = rates().filter((x) => x.wall > tUp);
    const best = Math.max(0, ...upRates.map((x) => x.kbps));
    ctx.diagnostic(`after recovery: ${up ? `>= ${target} kbit/s after ${up.wall - tUp} ms` : 'never'}; best 1-s rate ${kb(best)}`);
    assert.ok(up, `A's 1-s send rate climbs back to >= ${target} kbit/s within 40 s of the recovery; best ${kb(best)}, ` +
      `last rates ${fmt(upRates.slice(-10).map((x) => Math.round(x.kbps)))}`);
    const after = inbound(sb.samples.at(-1), a.id);
    assert.ok(after.framesDecoded > inbound(between(sb.samples, tUp).at(0), a.id).framesDecoded + 30,
      'B decodes after the recovery');

    const last = sa.samples.at(-1);
    const budget = findNumber(last.roomStats, /budget/i);
    ctx.diagnostic(`room.stats: ${fmt(last.roomStats)}`);
    assert.ok(last.roomStats !== undefined, 'room.stats exists with adaptiveBitrate on');
    assert.ok(budget && budget.value > 0, `room.stats reports an uplink budget: ${fmt(last.roomStats)}`);
  } finally {
    await sa.stop();
    await sb.stop();
    await rig.close();
  }
});

// With the AbrCore in dist before 18:33 UTC on 2026-11-24 this case failed in 3 of 5 runs (the
// uplink budget fell to 300-570 kbit/s and A's video was turned off on one to three
// connections); with the one after 5d28a6b it passed in every run seen.
test('(b) 4-peer mesh on a shaped 1.2 Mbit/s uplink: the three connections share it, everyone keeps decoding A', async (ctx) => {
  const CAP = 1200;
  const rig = await openRig({
    server, room: `abr-b-${process.pid}`, adaptive: undefined, // the Room's default (adaptiveBitrate on, once the glue has it)
    hosts: meshHosts(CAP),
  });
  const [a, ...others] = rig.peers;
  const sa = new Sampler(a, 1000);
  try {
    for (const p of others) await waitFirstFrames(p, 3);
    sa.start();
    await sleep(12000); // let the estimates settle on the shaped link
    const before = await Promise.all(others.map((p) => p.evaluate(() => window.abr.sample())));
    const t0 = Date.now();
    await sleep(10000);
    const t1 = Date.now();
    const afterS = await Promise.all(others.map((p) => p.evaluate(() => window.abr.sample())));
    const shares = others.map((p) => meanRate(sa.samples, (s) => sentBytes(s, { peerId: p.id }), t0, t1) ?? 0);
    const total = meanRate(sa.samples, (s) => sentBytes(s), t0, t1) ?? 0;
    const frames = others.map((p, i) => inbound(afterS[i], a.id).framesDecoded - inbound(before[i], a.id).framesDecoded);
    ctx.diagnostic(`A on ${CAP} kbit/s: per connection ${shares.map(kb).join(', ')}; total ${kb(total)}; ` +
      `frames of A decoded in 10 s by B, C, D: ${frames.join(', ')}`);
    ctx.diagnostic(`A's room.stats: ${fmt(sa.samples.at(-1)?.roomStats)}`);
    for (const [i, p] of others.entries()) {
      assert.ok(frames[i] >= 20, `${p.name} keeps decoding A's video (>= 20 frames in 10 s): ${frames[i]}`);
    }
    const min = Math.min(...shares);
    const max = Math.max(...shares);
    // The controller splits the budget itself (Chromium alone measured min/max 0.17-0.92).
    const fair = 0.25;
    assert.ok(min > 0 && min >= max * fair, `no connection starves: min share ${kb(min)} >= ${fair} of max ${kb(max)}`);
    assert.ok(total <= CAP * 1.15, `A's three connections together stay within the ${CAP} kbit/s link: ${kb(total)}`);
    assert.ok(total >= CAP * 0.3, `A's three connections use a fair part of the link: ${kb(total)}`);
  } finally {
    await sa.stop();
    await rig.close();
  }
});
