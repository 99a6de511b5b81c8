#!/usr/bin/env node
// Adaptive bitrate on a shaped link in Chromium: the chorus controller (Room option
// adaptiveBitrate: true) against Chromium's own adaptation alone (adaptiveBitrate: false), on the
// same link schedule in the same run, one after the other (never at once: 2 shared cores).
//
// Each peer runs in its own network namespace with its own Chromium (tests/e2e/shaped-net.mjs);
// the sender's camera is a heavy generated y4m (1280x720, 30 fps, tests/e2e/y4m.mjs); its
// uplink is a tbf (no netem in this kernel: rate only, no added delay or loss).
//
//   1. two peers, A's uplink: 3 Mbit/s for STEADY s, 500 kbit/s for HOLD s, 3 Mbit/s for HOLD s.
//      - steady utilization: A's send rate (all outbound RTP, payload + headers) and B's receive
//        rate (A's video) over the last 10 s of the steady phase, against the 3 Mbit/s; loss from
//        remote-inbound-rtp packetsLost over packetsSent there.
//      - drop: time from the change until A's 1-s send rate (window ending at a sample) < 500.
//      - recovery: time until A's 1-s send rate >= 90% of 3 Mbit/s (and >= 50%); best rate.
//      - freezes at B from the drop on (freezeCount, totalFreezesDuration of inbound-rtp).
//   2. four peers in a mesh, A's uplink 1.2 Mbit/s: A's send rate per connection over 10 s
//      (after 12 s to settle), min/max share, total against the link, frames of A decoded.
// A samples every 250 ms, the others every 500 ms.
//
//   bash tools/netns-run.sh node tools/bench/abr.mjs [--runs 3] [--write] [--modes chorus,chromium] [--no-mesh]
//     [--steady 15] [--hold 20]   (seconds of the 3 Mbit/s phase, and of each later phase)
//
// Until the glue has the option, only the baseline runs (the plain Room: Chromium alone).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { chromiumVersion, writeSection } from './doc.mjs';
import { startTestServer, sleep, ROOT } from '../../tests/e2e/harness.mjs';
import {
  openRig, Sampler, glueHasAdaptiveBitrate, HEAVY, meshHosts, sentBytes, windowRates, inbound,
  meanRate, remoteLoss, between, findNumber, waitFirstFrames,
} from '../../tests/e2e/abr-scenario.mjs';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    write: { type: 'boolean', default: false },
    modes: { type: 'string' },
    steady: { type: 'string', default: '15' },
    hold: { type: 'string', default: '20' },
    'no-mesh': { type: 'boolean', default: false },
  },
});
const RUNS = Number(opt.runs);
const STEADY = Number(opt.steady) * 1000;
const HOLD = Number(opt.hold) * 1000;
const HIGH = 3000;
const LOW = 500;
const MESH_CAP = 1200;
// What the pages run: a copy of js-glue/ and dist/ taken now, served at /js-glue/ and /dist/
// (others may rebuild dist/ while this runs; a half-written module would spoil a run).
const SNAP = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-bench-abr-'));
fs.cpSync(path.join(ROOT, 'js-glue'), path.join(SNAP, 'js-glue'), { recursive: true });
fs.cpSync(path.join(ROOT, 'dist'), path.join(SNAP, 'dist'), { recursive: true });
process.on('exit', () => fs.rmSync(SNAP, { recursive: true, force: true }));
const SERVE = [{ prefix: '/js-glue/', dir: path.join(SNAP, 'js-glue') }, { prefix: '/dist/', dir: path.join(SNAP, 'dist') }];
const DIST_TIME = fs.statSync(path.join(ROOT, 'dist/chorus-media.wasm')).mtime.toISOString().slice(0, 16).replace('T', ' ');
const HAS_OPTION = glueHasAdaptiveBitrate({ glue: path.join(SNAP, 'js-glue'), dist: path.join(SNAP, 'dist') });
const MODES = (opt.modes ? opt.modes.split(',') : HAS_OPTION ? ['chorus', 'chromium'] : ['chromium']);
if (!HAS_OPTION && MODES.includes('chorus')) throw new Error('the glue has no adaptiveBitrate option yet: only --modes chromium');
const adaptiveOf = (mode) => (!HAS_OPTION ? undefined : mode === 'chorus');
const LABEL = { chorus: 'chorus (adaptiveBitrate: true)', chromium: HAS_OPTION ? 'Chromium alone (adaptiveBitrate: false)' : 'Chromium alone (the Room as it is, no adaptiveBitrate option yet)' };
const log = (...a) => console.log(...a);
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const glueDirty = execFileSync('git', ['status', '--porcelain', '--', 'js-glue'], { encoding: 'utf8' }).trim() !== '';
if (!process.env.CHORUS_NETNS) throw new Error('run inside tools/netns-run.sh (the peers need their own namespaces)');

const median = (xs) => {
  const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};

async function twoPeers(server, mode, run) {
  const rig = await openRig({
    server, room: `bench-abr-${process.pid}-${mode}-${run}`, adaptive: adaptiveOf(mode), serve: SERVE,
    hosts: [
      { name: 'A', heavy: HEAVY, shape: { rateKbit: HIGH } },
      { name: 'B', w: 320, h: 240, fps: 15 },
    ],
  });
  const [a, b] = rig.peers;
  const sa = new Sampler(a, 250);
  const sb = new Sampler(b, 500);
  try {
    await b.waitDecodingFrom(1, { timeout: 30000 });
    sa.start();
    sb.start();
    const uplink = (s) => sentBytes(s, { peerId: b.id });
    const received = (s) => { const i = inbound(s, a.id); return { bytes: i.bytes, ts: i.ts }; };

    const tStart = Date.now();
    await sleep(STEADY);
    const tDrop = Date.now();
    const from = Math.max(tStart, tDrop - 10000);
    const sent = meanRate(sa.samples, uplink, from, tDrop);
    const recv = meanRate(sb.samples, received, from, tDrop);
    const st = between(sa.samples, from, tDrop);
    const l0 = remoteLoss(st[0], b.id);
    const l1 = remoteLoss(st.at(-1), b.id);
    const steadyLoss = l1.sent > l0.sent ? (l1.lost - l0.lost) / (l1.sent - l0.sent) : null;
    const steadyWidth = st.at(-1)?.pcs.find((r) => r.peerId === b.id)?.out?.frameWidth ?? null;

    rig.net.shape(rig.hosts[0], { rateKbit: LOW });
    const b0 = inbound(between(sb.samples, tDrop - 1000).at(0) ?? sb.samples.at(-1), a.id);
    await sleep(HOLD);
    const tUp = Date.now();
    rig.net.shape(rig.hosts[0], { rateKbit: HIGH });
    const lowLossS = between(sa.samples, tDrop, tUp);
    const ll0 = remoteLoss(lowLossS[0], b.id);
    const ll1 = remoteLoss(lowLossS.at(-1), b.id);
    const lowRate = meanRate(sa.samples, uplink, tDrop + HOLD / 2, tUp);
    await sleep(HOLD);
    const tEnd = Date.now();
    await sa.stop();
    await sb.stop();

    const rates = windowRates(sa.samples, uplink, 1000);
    const belowAt = rates.find((x) => x.wall > tDrop && x.wall <= tUp && x.kbps < LOW);
    const up90 = rates.find((x) => x.wall > tUp && x.kbps >= HIGH * 0.9);
    const up50 = rates.find((x) => x.wall > tUp && x.kbps >= HIGH * 0.5);
    const bestUp = Math.max(0, ...rates.filter((x) => x.wall > tUp).map((x) => x.kbps));
    const b1 = inbound(sb.samples.at(-1), a.id);
    const last = sa.samples.at(-1);
    if (mode === 'chorus' && !findNumber(last?.roomStats, /budget/i)) {
      throw new Error('the controller did not run (room.stats has no uplink budget)');
    }
    const res = {
      steadySent: sent, steadyRecv: recv, steadyUtilSent: sent / HIGH, steadyUtilRecv: recv / HIGH,
      steadyLoss, steadyWidth,
      dropMs: belowAt ? belowAt.wall - tDrop : null, lowRate, lowLoss: ll1.sent > ll0.sent ? (ll1.lost - ll0.lost) / (ll1.sent - ll0.sent) : null,
      up90Ms: up90 ? up90.wall - tUp : null, up50Ms: up50 ? up50.wall - tUp : null, bestUp,
      endWidth: last?.pcs.find((r) => r.peerId === b.id)?.out?.frameWidth ?? null,
      freezeCount: b1.freezeCount - b0.freezeCount, freezeS: b1.totalFreezesDuration - b0.totalFreezesDuration,
      framesDecoded: b1.framesDecoded - b0.framesDecoded, seconds: (tEnd - tDrop) / 1000,
      budget: findNumber(last?.roomStats, /budget/i)?.value ?? null,
    };
    return res;
  } finally {
    await sa.stop();
    await sb.stop();
    await rig.close();
  }
}

async function mesh(server, mode, run) {
  const rig = await openRig({
    server, room: `bench-abr-mesh-${process.pid}-${mode}-${run}`, adaptive: adaptiveOf(mode), serve: SERVE,
    hosts: meshHosts(MESH_CAP),
  });
  const [a, ...others] = rig.peers;
  const sa = new Sampler(a, 500);
  try {
    for (const p of others) await waitFirstFrames(p, 3);
    sa.start();
    await sleep(12000);
    const before = await Promise.all(others.map((p) => p.evaluate(() => window.abr.sample())));
    const t0 = Date.now();
    await sleep(10000);
    const t1 = Date.now();
    const after = await Promise.all(others.map((p) => p.evaluate(() => window.abr.sample())));
    await sa.stop();
    const shares = others.map((p) => meanRate(sa.samples, (s) => sentBytes(s, { peerId: p.id }), t0, t1) ?? 0);
    const total = meanRate(sa.samples, (s) => sentBytes(s), t0, t1) ?? 0;
    const frames = others.map((p, i) => inbound(after[i], a.id).framesDecoded - inbound(before[i], a.id).framesDecoded);
    const freezes = others.map((p, i) => inbound(after[i], a.id).freezeCount - inbound(before[i], a.id).freezeCount);
    return {
      shares, total, util: total / MESH_CAP, minMax: Math.min(...shares) / Math.max(...shares),
      minFps: Math.min(...frames) / ((t1 - t0) / 1000), freezes: freezes.reduce((x, y) => x + y, 0),
      videoOff: frames.filter((f) => f < (t1 - t0) / 1000).length, // under 1 frame/s of A
    };
  } finally {
    await sa.stop();
    await rig.close();
  }
}

const results = Object.fromEntries(MODES.map((m) => [m, { two: [], mesh: [] }]));
const loads = [os.loadavg()[0]]; // the machine is shared: its load is part of the result
const server = await startTestServer();
const started = Date.now();
try {
  for (let run = 1; run <= RUNS; run += 1) {
    // Alternate the order, so neither mode always runs on a warmer (or busier) machine.
    const order = run % 2 ? MODES : [...MODES].reverse();
    for (const mode of order) {
      loads.push(os.loadavg()[0]);
      log(`run ${run}/${RUNS} ${mode}: two peers`);
      try {
        const r = await twoPeers(server, mode, run);
        results[mode].two.push(r);
        log('  ', JSON.stringify(r, (k, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v)));
      } catch (e) {
        log(`   failed: ${e.message.split('\n')[0]}`);
        results[mode].two.push({ failed: e.message.split('\n')[0] });
      }
      if (opt['no-mesh']) continue;
      log(`run ${run}/${RUNS} ${mode}: 4-peer mesh`);
      try {
        const r = await mesh(server, mode, run);
        results[mode].mesh.push(r);
        log('  ', JSON.stringify(r, (k, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v)));
      } catch (e) {
        log(`   failed: ${e.message.split('\n')[0]}`);
        results[mode].mesh.push({ failed: e.message.split('\n')[0] });
      }
    }
  }
} finally {
  await server.close();
}

// --- summary -----------------------------------------------------------------------------------

const med = (mode, part, key) => median(results[mode][part].filter((r) => !r.failed).map((r) => r[key]));
const kbps = (x) => (x == null ? 'n/a' : `${Math.round(x)} kbit/s`);
const pct = (x) => (x == null ? 'n/a' : `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %`);
const secs = (x) => (x == null ? 'n/a' : `${(x / 1000).toFixed(1)} s`);
// Times that were never reached count as "> HOLD" for the median and are shown so.
const timeMed = (mode, key) => {
  const rs = results[mode].two.filter((r) => !r.failed);
  const xs = rs.map((r) => (r[key] == null ? Infinity : r[key])).sort((a, b) => a - b);
  if (!xs.length) return { text: 'n/a', v: null };
  const m = xs[Math.floor((xs.length - 1) / 2)];
  const never = rs.filter((r) => r[key] == null).length;
  return m === Infinity ? { text: `not within ${HOLD / 1000} s (${never}/${rs.length} runs)`, v: null }
    : { text: `${secs(m)}${never ? ` (${never}/${rs.length} runs never)` : ''}`, v: m };
};
const ratio = (c, b) => (c == null || b == null || b === 0 ? '' : `${(c / b).toFixed(2)}`);

const rows = [];
const row = (name, f) => {
  const cells = MODES.map((m) => f(m));
  rows.push([name, ...cells.map((c) => c.text), MODES.length === 2 ? ratio(cells[0].v, cells[1].v) : null].filter((x) => x !== null));
};
const num = (fmt, part, key) => (m) => { const v = med(m, part, key); return { text: fmt(v), v }; };
row(`steady ${HIGH} kbit/s: A's send rate`, num(kbps, 'two', 'steadySent'));
row('steady: utilization, sent / capacity', num(pct, 'two', 'steadyUtilSent'));
row('steady: utilization, received at B (video) / capacity', num(pct, 'two', 'steadyUtilRecv'));
row('steady: video loss (remote-inbound-rtp)', num(pct, 'two', 'steadyLoss'));
row('steady: frame width sent', num((x) => (x == null ? 'n/a' : String(x)), 'two', 'steadyWidth'));
row(`drop to ${LOW} kbit/s: time until 1-s send rate < ${LOW}`, (m) => timeMed(m, 'dropMs'));
row(`on ${LOW} kbit/s (2nd half): A's send rate`, num(kbps, 'two', 'lowRate'));
row(`on ${LOW} kbit/s: video loss`, num(pct, 'two', 'lowLoss'));
row(`recover to ${HIGH} kbit/s: time until >= 50 %`, (m) => timeMed(m, 'up50Ms'));
row(`recover: time until >= 90 % (${HIGH * 0.9} kbit/s)`, (m) => timeMed(m, 'up90Ms'));
row(`recover: best 1-s send rate within ${HOLD / 1000} s`, num(kbps, 'two', 'bestUp'));
row('recover: frame width sent at the end', num((x) => (x == null ? 'n/a' : String(x)), 'two', 'endWidth'));
row(`freezes at B from the drop on (${(2 * HOLD) / 1000} s)`, num((x) => (x == null ? 'n/a' : String(x)), 'two', 'freezeCount'));
row('freeze time at B from the drop on', num((x) => (x == null ? 'n/a' : `${x.toFixed(1)} s`), 'two', 'freezeS'));
if (!opt['no-mesh']) {
  row(`4-peer mesh, A on ${MESH_CAP} kbit/s: total send rate`, num(kbps, 'mesh', 'total'));
  row('mesh: utilization, sent / capacity', num(pct, 'mesh', 'util'));
  row('mesh: min / max share of A\'s three connections', num((x) => (x == null ? 'n/a' : x.toFixed(2)), 'mesh', 'minMax'));
  row('mesh: slowest receiver\'s decoded frame rate of A', num((x) => (x == null ? 'n/a' : `${x.toFixed(1)} fps`), 'mesh', 'minFps'));
  row('mesh: freezes of A at B, C, D in 10 s', num((x) => (x == null ? 'n/a' : String(x)), 'mesh', 'freezes'));
  row('mesh: receivers without A\'s video (< 1 frame/s), of 3', num((x) => (x == null ? 'n/a' : String(x)), 'mesh', 'videoOff'));
}
if (HAS_OPTION && MODES.includes('chorus')) {
  const b = med('chorus', 'two', 'budget');
  log(`room.stats uplink budget at the end (chorus, median): ${kbps(b == null ? null : b > 100000 ? b / 1000 : b)}`);
}

const header = ['', ...MODES.map((m) => LABEL[m]), ...(MODES.length === 2 ? ['ratio'] : [])];
const table = [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
const failures = MODES.flatMap((m) => ['two', 'mesh'].flatMap((p) => results[m][p].filter((r) => r.failed)
  .map((r) => `${m} ${p}: ${r.failed}`)));
const perRun = MODES.map((m) => `- ${LABEL[m]}: drop ${results[m].two.map((r) => (r.failed ? 'failed' : secs(r.dropMs))).join(', ')}; ` +
  `>= 90 % ${results[m].two.map((r) => (r.failed ? 'failed' : r.up90Ms == null ? 'never' : secs(r.up90Ms))).join(', ')}; ` +
  `best after recovery ${results[m].two.map((r) => (r.failed ? 'failed' : kbps(r.bestUp))).join(', ')}; ` +
  `steady sent ${results[m].two.map((r) => (r.failed ? 'failed' : kbps(r.steadySent))).join(', ')}` +
  (opt['no-mesh'] ? '' : `; mesh min/max ${results[m].mesh.map((r) => (r.failed ? 'failed' : r.minMax.toFixed(2))).join(', ')}` +
    `, receivers without A's video ${results[m].mesh.map((r) => (r.failed ? 'failed' : r.videoOff)).join(', ')}`)).join('\n');

log(`\n${table}\n\nper run:\n${perRun}${failures.length ? `\nfailures:\n${failures.join('\n')}` : ''}`);
log(`(${((Date.now() - started) / 60000).toFixed(1)} min)`);

if (opt.write) {
  const section = `<!-- abr-real:begin (written by tools/bench/abr.mjs) -->
## Bitrate: shaped link in Chromium (chorus vs Chromium alone)

\`bash tools/netns-run.sh node tools/bench/abr.mjs --runs ${RUNS} --write\` — commit ${commit}${glueDirty ? ' (js-glue/ with uncommitted changes)' : ''} (dist/ built ${DIST_TIME} UTC), ${chromiumVersion()},
2 shared cores (1-min load average ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)} during the run), ${new Date().toISOString().slice(0, 10)}. Medians of ${RUNS} run(s); each run drives every mode
one after the other on the same link schedule${MODES.length === 2 ? ' (order alternating between runs)' : ''}.
${HAS_OPTION ? '' : '\n**Baseline only:** the glue has no `adaptiveBitrate` option yet, so only the Room as it is (Chromium\'s own adaptation) was measured.\n'}
Setup: every peer in its own network namespace with its own Chromium, joined to the test namespace by a
veth pair; A's uplink is a \`tbf\` (rate only; no netem in this kernel, so no added delay or loss; queue
${100} ms). A's camera is a generated 1280x720 30 fps y4m with per-frame noise (tests/e2e/y4m.mjs); B uses
Chromium's fake camera at 320x240. Two peers: ${HIGH} kbit/s for ${STEADY / 1000} s, ${LOW} kbit/s for
${HOLD / 1000} s, ${HIGH} kbit/s for ${HOLD / 1000} s. Send rate: A's outbound RTP (audio + video, payload +
RTP headers, retransmissions included) over 1-s windows, sampled every 250 ms. Utilization over the last
10 s of the steady phase. Mesh: 4 peers, A's uplink ${MESH_CAP} kbit/s (640x360 y4m), 10 s measured after
12 s. Ratio: chorus / Chromium alone.

${table}

Per run:
${perRun}
${failures.length ? `\nFailed runs:\n${failures.map((f) => `- ${f}`).join('\n')}\n` : ''}<!-- abr-real:end -->`;
  writeSection(section, 'abr-real');
  log('wrote docs/BENCHMARKS.md (abr-real)');
}
