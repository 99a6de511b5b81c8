#!/usr/bin/env node
// Push-to-talk mouth-to-ear latency: one talker holds the floor for --seconds while the fake
// microphone beeps (every 0.5 s); each of --listeners pages plays the voice. The same onset
// detector (js-glue/voice/onset.js) runs in the talker's capture worklet (right after the
// microphone) and in each listener's playout worklet (right before the speaker), so a beep's
// delay is playout onset - capture onset, on one clock (performance.timeOrigin + now, shared by
// the pages of one machine). The path measured: 20 ms framing, Opus encode, main thread,
// DataChannel (SCTP over the test namespace's veth), main thread, jitter buffer, decode,
// render quantum. Not included (reported separately): the output device's latency
// (AudioContext.outputLatency) and the microphone's, which a fake device does not have.
//
//   bash tools/netns-run.sh node tools/bench/ptt-latency.mjs [--runs 3] [--listeners 3] [--seconds 10] [--write]

import { parseArgs } from 'node:util';
import { chromiumVersion, writeSection } from './doc.mjs';
import { Env, waitUntil, sleep } from '../../tests/e2e/harness.mjs';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    listeners: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    write: { type: 'boolean', default: false },
  },
});
const RUNS = Number(opt.runs);
const LISTENERS = Number(opt.listeners);
const SECONDS = Number(opt.seconds);

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function oneRun(env, run) {
  const room = `ptt-latency-${process.pid}-${run}`;
  const peers = [];
  for (const name of ['talker', ...Array.from({ length: LISTENERS }, (_, i) => `listener-${i + 1}`)]) {
    const p = await env.openPeer({ room, name, path: '/e2e/voice.html' });
    p.id = (await p.waitJoined()).peerId;
    await waitUntil(() => p.evaluate(() => window.voice.ready), { timeout: 20000, message: `${name} ready` });
    peers.push(p);
  }
  for (const p of peers) {
    await waitUntil(() => p.evaluate((n) => window.voice.openChannels() >= n, LISTENERS), { timeout: 30000, message: `${p.name} channels` });
  }
  const [talker, ...listeners] = peers;
  const granted = await talker.evaluate(() => window.voice.press());
  if (!granted.granted) throw new Error(`not granted: ${JSON.stringify(granted)}`);
  await sleep(SECONDS * 1000);
  await talker.evaluate(() => window.voice.release());
  await sleep(500);
  const capture = await talker.evaluate(() => window.voice.onsets.capture);
  const samples = [];
  const extra = [];
  for (const l of listeners) {
    const { playout, stats, outputLatency } = await l.evaluate(() => ({
      playout: window.voice.onsets.playout, stats: window.voice.stats,
      outputLatency: window.voice.ptt.audioContext.outputLatency * 1000,
    }));
    for (const t of playout) {
      const before = capture.filter((c) => c <= t).at(-1);
      if (before !== undefined && t - before < 450) samples.push(t - before);
    }
    extra.push({ target: stats.targetMs, jitter: stats.jitterMs, concealed: stats.concealed, outputLatency });
  }
  for (const p of peers) await p.close();
  return { samples, extra, beeps: capture.length };
}

const env = await Env.create({ routedPages: true });
env.serveFromDisk('/e2e/', 'tests/e2e/pages');
const all = [];
const extras = [];
try {
  for (let run = 1; run <= RUNS; run++) {
    const r = await oneRun(env, run);
    const s = [...r.samples].sort((a, b) => a - b);
    console.log(`run ${run}: ${s.length} beeps matched (of ${r.beeps} x ${LISTENERS}); median ${quantile(s, 0.5).toFixed(1)} ms, p95 ${quantile(s, 0.95).toFixed(1)} ms; ` +
      r.extra.map((e) => `target ${e.target.toFixed(0)} jitter ${e.jitter.toFixed(1)} concealed ${e.concealed} out ${e.outputLatency.toFixed(1)}`).join(' | '));
    all.push(...r.samples);
    extras.push(...r.extra);
  }
} finally {
  await env.close();
}
all.sort((a, b) => a - b);
const med = quantile(all, 0.5);
const p95 = quantile(all, 0.95);
const outLat = extras.map((e) => e.outputLatency).sort((a, b) => a - b);
console.log(`all: n=${all.length} median ${med.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${all.at(-1).toFixed(1)} ms; outputLatency median ${quantile(outLat, 0.5).toFixed(1)} ms`);

if (opt.write) {
  const targets = extras.map((e) => e.target).sort((a, b) => a - b);
  writeSection(`<!-- ptt-latency:begin (written by tools/bench/ptt-latency.mjs --write) -->
## Push-to-talk mouth-to-ear latency

\`bash tools/netns-run.sh node tools/bench/ptt-latency.mjs --runs ${RUNS} --listeners ${LISTENERS} --seconds ${SECONDS} --write\`
(${chromiumVersion()}, ${new Date().toISOString().slice(0, 10)}; one talker and ${LISTENERS} listeners, each a page of one
Chromium in the test network namespace; voice over real SCTP on the namespace's veth.)

A beep of the fake microphone is timed where the capture worklet first sees it and where each
listener's playout worklet renders it (the same onset detector on both ends, one clock):

| beeps | median | p95 | max | median + outputLatency | target (ITU-T G.114) |
|---|---|---|---|---|---|
| ${all.length} | **${med.toFixed(0)} ms** | **${p95.toFixed(0)} ms** | ${all.at(-1).toFixed(0)} ms | ${(med + quantile(outLat, 0.5)).toFixed(0)} ms | < 150 ms, aiming < 100 ms |

Not included in the first three columns: the speaker's \`outputLatency\` (headless Chromium reports ${quantile(outLat, 0.5).toFixed(1)} ms) and
a real microphone's input latency (~10 ms on typical hardware). The jitter buffer's target delay
settled at ${quantile(targets, 0.5).toFixed(0)} ms (median over listeners and runs); the rest is 20 ms of framing,
the render quantum, the worklet-to-main-thread hops and the network.
<!-- ptt-latency:end -->`, 'ptt-latency');
  console.log('docs/BENCHMARKS.md updated');
}
