#!/usr/bin/env node
// Topology costs and switches, with a real Janus and Chromium in the test namespace:
//   1. switch gaps: the mesh -> SFU -> mesh scenario of tests/e2e/topology-scenario.mjs, for a
//      meeting (4 peers in a mesh, a 5th joins: SFU; two leave: mesh after the hold) and a
//      classroom (2, a 3rd joins; one leaves), --runs times each; the longest gap between frames
//      a page presents for a peer it was already showing, and across the swap itself. Each
//      run is paired with a control run of the same joins and leaves on a server whose rooms
//      never leave the mesh: a join costs CPU on a shared machine too, the switch is the
//      difference.
//   2. uplink and CPU per participant at 4, 6 and 8 peers, mesh against SFU, one after the
//      other on the same machine: each page's outbound RTP bitrate (all its connections), and
//      the CPU time Chromium (every process) and Janus spent, per participant.
//
//   CHORUS_E2E_SLOW=2 bash tools/netns-run.sh node tools/bench/topology.mjs [--runs 5] [--sizes 4,6,8] [--seconds 10] [--write]
// (CHORUS_E2E_SLOW doubles the page timeouts: eight pages of a mesh load slowly on 2 cores.)

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { chromiumVersion, writeSection } from './doc.mjs';
import { sleep } from '../../tests/e2e/harness.mjs';
import { startTopologyEnv, openTopologyPeer, waitSettled, meshToSfuAndBack, withServer, pageState } from '../../tests/e2e/topology-scenario.mjs';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '4,6,8' },
    seconds: { type: 'string', default: '10' },
    write: { type: 'boolean', default: false },
  },
});
const RUNS = Number(opt.runs);
const SIZES = opt.sizes ? opt.sizes.split(',').map(Number) : [];
const SECONDS = Number(opt.seconds);
const log = (...a) => console.log(...a);
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
if (!process.env.CHORUS_NETNS) log('warning: not inside tools/netns-run.sh; Janus needs the namespace address');

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

// CPU seconds (user + system) of one process.
function cpuOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return 0; // gone
  }
}

// CPU seconds of a process and all its descendants.
function cpuOfTree(rootPid) {
  let total = 0;
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i += 1) {
    const pid = pids[i];
    total += cpuOf(pid);
    try {
      for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
        const kids = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
        if (kids) pids.push(...kids.split(/\s+/).map(Number));
      }
    } catch { /* gone */ }
  }
  return total;
}

// Bytes sent on every RTCPeerConnection of the page (mesh and Janus ones).
const bytesSent = (p) => p.evaluate(async () => {
  let sum = 0;
  for (const { pc } of window.__t.pcs) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp') sum += s.bytesSent ?? 0; });
  }
  return sum;
});

const COST_VIDEO = { w: 160, h: 120, fps: 10 };
const framesSeen = (p) => p.evaluate(() => Object.values(window.frameGaps()).map((f) => f.frames));

async function costRun(t, size, mode) {
  const room = `cost-${mode}-${size}-${process.pid}`;
  const peers = [];
  // sfu: a classroom goes to Janus from 3; mesh: the control server's rooms never leave it.
  // 160x120 at 10 fps: eight pages of a mesh (56 encodes) still load on 2 cores.
  for (let i = 1; i <= size; i += 1) {
    peers.push(await openTopologyPeer(t.env, room, `c${i}`, { policy: mode === 'sfu' ? 'classroom' : 'meeting', ...COST_VIDEO }));
  }
  let settled = true;
  try {
    await waitSettled(peers, mode, { timeout: 60000 });
  } catch (e) {
    // A big room on 2 shared cores may never settle (every page presenting every peer within
    // 400 ms): what it sends and presents is then measured as it is.
    settled = false;
    log(`${size} peers ${mode}: did not settle (${e.message.split('\n')[0]})`);
  }
  await sleep(3000); // bandwidth estimates and simulcast layers settle
  // Chromium: everything this process started except Janus (the signaling server runs in this
  // process, and is left out with it).
  const chromiumCpu = () => cpuOfTree(process.pid) - cpuOf(process.pid) - cpuOfTree(t.janus.pid);
  const b0 = await Promise.all(peers.map(bytesSent));
  const f0 = await Promise.all(peers.map(framesSeen));
  const c0 = chromiumCpu();
  const j0 = cpuOfTree(t.janus.pid);
  const w0 = Date.now();
  await sleep(SECONDS * 1000);
  const b1 = await Promise.all(peers.map(bytesSent));
  const f1 = await Promise.all(peers.map(framesSeen));
  const secs = (Date.now() - w0) / 1000;
  const chromium = (chromiumCpu() - c0) / secs;
  const janus = (cpuOfTree(t.janus.pid) - j0) / secs;
  const kbps = b1.map((b, i) => ((b - b0[i]) * 8) / secs / 1000);
  // Frames presented per second for each (page, remote peer): what the viewers get.
  const fps = f1.flatMap((fs, i) => fs.map((n, j) => (n - (f0[i][j] ?? n)) / secs));
  const limited = await Promise.all(peers.map((p) => p.evaluate(async () => {
    let reason = 'none';
    for (const { pc } of window.__t.pcs) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video' && s.qualityLimitationReason && s.qualityLimitationReason !== 'none') reason = s.qualityLimitationReason;
      });
    }
    return reason;
  })));
  return {
    size, mode, settled, uplinkKbps: median(kbps), maxUplinkKbps: Math.max(...kbps), chromiumCpu: chromium / size, janusCpu: janus,
    fps: median(fps), minFps: Math.min(...fps), limited: limited.filter((r) => r !== 'none').length,
  };
}

const t = await startTopologyEnv();
const costs = [];
const NEVER = { sfuFrom: 100, classroomSfuFrom: 100, limitedSfuFrom: 100 };
// A meeting (4 in a mesh, a 5th joins: SFU; 2 leave: mesh) loads the 2 cores with 5 pages; a
// classroom (2, a 3rd joins: SFU; 1 leaves: p2p) is the same switch with 3 pages.
const SCENARIOS = [
  { name: 'meeting', label: 'meeting: 4 -> 5 -> 3', before: 4, leave: 2, query: {}, switching: { sfuFrom: 5 } },
  { name: 'classroom', label: 'classroom: 2 -> 3 -> 2', before: 2, leave: 1, query: { policy: 'classroom' }, switching: { classroomSfuFrom: 3 } },
];
for (const sc of SCENARIOS) Object.assign(sc, { gaps: [], controls: [] });
try {
  for (const sc of SCENARIOS) {
    for (let run = 1; run <= RUNS; run += 1) {
      const opts = { before: sc.before, leave: sc.leave, query: sc.query };
      const r = await withServer(t, sc.switching, () => meshToSfuAndBack(t.env, `${sc.name}-${process.pid}-${run}`, opts));
      sc.gaps.push({ up: r.up.gap, down: r.down.gap, upSwap: r.upSwap.gap, downSwap: r.downSwap.gap, toSfuMs: r.toSfuMs, toMeshMs: r.toMeshMs });
      log(`${sc.name} ${run}: mesh->sfu gap ${r.up.gap} ms (${r.up.at}), across a swap ${r.upSwap.gap} ms (${r.upSwap.swaps} swaps), settled ${r.toSfuMs} ms; `
        + `sfu->mesh gap ${r.down.gap} ms (${r.down.at}), across a swap ${r.downSwap.gap} ms (${r.downSwap.swaps} swaps), settled ${r.toMeshMs} ms`);
      await sleep(1500);
      const c = await withServer(t, NEVER, () => meshToSfuAndBack(t.env, `${sc.name}-control-${process.pid}-${run}`, { ...opts, expect: 'mesh' }));
      sc.controls.push({ up: c.up.gap, down: c.down.gap });
      log(`${sc.name} control ${run} (no switch): join gap ${c.up.gap} ms (${c.up.at}); leave gap ${c.down.gap} ms (${c.down.at})`);
      await sleep(1500);
    }
  }
  for (const size of SIZES) {
    for (const mode of ['mesh', 'sfu']) {
      const c = await withServer(t, mode === 'mesh' ? NEVER : { classroomSfuFrom: 3 }, () => costRun(t, size, mode));
      costs.push(c);
      log(`${size} peers ${mode}: uplink median ${c.uplinkKbps.toFixed(0)} kbit/s (max ${c.maxUplinkKbps.toFixed(0)}), Chromium CPU ${(c.chromiumCpu * 100).toFixed(0)} % per peer, Janus ${(c.janusCpu * 100).toFixed(0)} %, received ${c.fps.toFixed(1)} fps (min ${c.minFps.toFixed(1)}), ${c.limited} pages quality-limited`);
    }
  }
} finally {
  await t.close();
}

const stats = (sc) => {
  const pick = (xs, k) => xs.map((g) => g[k]);
  const m = (xs) => median(xs);
  const mx = (xs) => Math.max(...xs);
  const g = sc.gaps;
  const c = sc.controls;
  return {
    up: [m(pick(g, 'up')), mx(pick(g, 'up'))], down: [m(pick(g, 'down')), mx(pick(g, 'down'))],
    upSwap: [m(pick(g, 'upSwap')), mx(pick(g, 'upSwap'))], downSwap: [m(pick(g, 'downSwap')), mx(pick(g, 'downSwap'))],
    cUp: [m(pick(c, 'up')), mx(pick(c, 'up'))], cDown: [m(pick(c, 'down')), mx(pick(c, 'down'))],
    toSfu: m(pick(g, 'toSfuMs')), toMesh: m(pick(g, 'toMeshMs')),
  };
};
for (const sc of RUNS > 0 ? SCENARIOS : []) {
  const st = stats(sc);
  log(`${sc.label}: up gap median ${st.up[0]} max ${st.up[1]}, across the swap ${st.upSwap[0]}/${st.upSwap[1]}, control ${st.cUp[0]}/${st.cUp[1]}; `
    + `down gap ${st.down[0]}/${st.down[1]}, across the swap ${st.downSwap[0]}/${st.downSwap[1]}, control ${st.cDown[0]}/${st.cDown[1]} (ms, median/max)`);
}

if (opt.write) {
  const row = (c) => (`| ${c.size} | ${c.mode}${c.settled ? '' : ' (never settled)'} | ${c.uplinkKbps.toFixed(0)} | ${c.maxUplinkKbps.toFixed(0)} | ${(c.chromiumCpu * 100).toFixed(0)} % | ${c.mode === 'sfu' ? `${(c.janusCpu * 100).toFixed(0)} %` : '-'} | ${c.fps.toFixed(1)} (min ${c.minFps.toFixed(1)}) | ${c.limited} of ${c.size} |`);
  const ratio = SIZES.map((size) => {
    const m = costs.find((c) => c.size === size && c.mode === 'mesh');
    const s = costs.find((c) => c.size === size && c.mode === 'sfu');
    return `${size}: uplink sfu/mesh ${(s.uplinkKbps / m.uplinkKbps).toFixed(2)}, CPU sfu/mesh ${(s.chromiumCpu / m.chromiumCpu).toFixed(2)}, received fps sfu/mesh ${(s.fps / m.fps).toFixed(2)}`;
  }).join('; ');
  if (RUNS > 0) {
  writeSection(`<!-- topology:begin (written by tools/bench/topology.mjs --write) -->
## Topology: switch gaps

\`CHORUS_E2E_SLOW=2 bash tools/netns-run.sh node tools/bench/topology.mjs --runs ${RUNS} --sizes ${SIZES.join(',')} --seconds ${SECONDS} --write\`
(${chromiumVersion()}, Janus 1.1.2 (Debian), ${new Date().toISOString().slice(0, 10)}, at commit ${commit}; every participant is a page of
one headless Chromium with a fake camera, simulcast on; Janus and the pages share this machine's 2 cores.)
Cameras at 320x240 and 15 fps.

**Switch gaps.** Each page plays every peer in one \`<video>\` bound to \`peer.stream\` and times
every presented frame (requestVideoFrameCallback). Two figures per step, over all pages: the
longest gap between two frames of a peer the page was already showing, and the longest frame
interval spanning a swap (the moment a page moves a peer's video from one path to the other:
what the switch itself costs; one frame at 15 fps is 67 ms). Each run is paired with a control
run of the same joins and leaves on a server whose rooms never leave the mesh: on 2 shared cores
a join alone stalls frames (every page's encoders and decoders compete).

| scenario | step | longest gap, median / max of ${RUNS} runs | across the swap, median / max | control (no switch), median / max | target |
|---|---|---|---|---|---|
${SCENARIOS.map((sc) => {
  const st = stats(sc);
  return `| ${sc.label} | join: mesh -> SFU | **${st.up[0]}** / ${st.up[1]} ms | **${st.upSwap[0]}** / ${st.upSwap[1]} ms | ${st.cUp[0]} / ${st.cUp[1]} ms | < 250 ms |\n`
    + `| ${sc.label} | leave: SFU -> mesh | **${st.down[0]}** / ${st.down[1]} ms | **${st.downSwap[0]}** / ${st.downSwap[1]} ms | ${st.cDown[0]} / ${st.cDown[1]} ms | < 250 ms |`;
}).join('\n')}

Time from the join (leave) to every page settled on the new path, median: ${SCENARIOS.map((sc) => `${sc.name} ${stats(sc).toSfu} ms to the SFU, ${stats(sc).toMesh} ms back (with the 2 s hold)`).join('; ')}.
Per run (longest gap up/down, ms): ${SCENARIOS.map((sc) => `${sc.name} ${sc.gaps.map((g) => `${g.up}/${g.down}`).join(', ')}; controls ${sc.controls.map((g) => `${g.up}/${g.down}`).join(', ')}`).join('; ')}.
<!-- topology:end -->`, 'topology');
  }
  if (SIZES.length > 0) {
  writeSection(`<!-- topology-costs:begin (written by tools/bench/topology.mjs --write) -->
## Topology: mesh vs SFU costs per participant

\`CHORUS_E2E_SLOW=2 bash tools/netns-run.sh node tools/bench/topology.mjs --runs ${RUNS} --sizes ${SIZES.join(',')} --seconds ${SECONDS} --write\`
(${chromiumVersion()}, Janus 1.1.2 (Debian), ${new Date().toISOString().slice(0, 10)}, at commit ${commit}; every participant is a page of
one headless Chromium with a fake camera, simulcast on; Janus and the pages share this machine's 2 cores.)

**Costs per participant** over ${SECONDS} s once settled (or after 60 s for a room that never settles), cameras at ${COST_VIDEO.w}x${COST_VIDEO.h} and ${COST_VIDEO.fps} fps (so that eight
pages of a mesh load at all): each page's outbound RTP bitrate summed over its connections (median
over the pages, and the largest), Chromium's CPU (all its processes; 100 % = one core) divided by
the participants, Janus's CPU, the frames per second each page presents of each other peer
(median, and the worst pair; ${COST_VIDEO.fps} is everything), and how many pages' video senders report a quality limitation
(cpu or bandwidth). All pages share this machine's 2 cores, so when the total reaches 200 % the
figures say how a mesh degrades rather than what one participant's own machine would spend.

| participants | topology | uplink median (kbit/s) | uplink max (kbit/s) | Chromium CPU per participant | Janus CPU | received fps | quality-limited pages |
|---|---|---|---|---|---|---|---|
${costs.map(row).join('\n')}

Ratios: ${ratio}.
<!-- topology-costs:end -->`, 'topology-costs');
  }
  log('docs/BENCHMARKS.md updated');
}
