#!/usr/bin/env node
// Topology costs and switches, with a real Janus and Chromium in the test namespace:
//   1. switch gaps: the mesh -> SFU -> mesh scenario of tests/e2e/topology-scenario.mjs (4 peers
//      in a mesh, a 5th joins: SFU; two leave: mesh after the hold), --runs times; the longest
//      gap between frames a page presents for a peer it was already showing, per switch. Each
//      run is paired with a control run of the same joins and leaves on a server whose rooms
//      never leave the mesh: a join costs CPU on a shared machine too, the switch is the
//      difference.
//   2. uplink and CPU per participant at 4, 6 and 8 peers, mesh against SFU, one after the
//      other on the same machine: each page's outbound RTP bitrate (all its connections), and
//      the CPU time Chromium (every process) and Janus spent, per participant.
//
//   bash tools/netns-run.sh node tools/bench/topology.mjs [--runs 5] [--sizes 4,6,8] [--seconds 10] [--write]

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { chromiumVersion, writeSection } from './doc.mjs';
import { sleep } from '../../tests/e2e/harness.mjs';
import { startTopologyEnv, openTopologyPeer, waitSettled, meshToSfuAndBack, withServer } from '../../tests/e2e/topology-scenario.mjs';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '4,6,8' },
    seconds: { type: 'string', default: '10' },
    write: { type: 'boolean', default: false },
  },
});
const RUNS = Number(opt.runs);
const SIZES = opt.sizes.split(',').map(Number);
const SECONDS = Number(opt.seconds);
const log = (...a) => console.log(...a);
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

async function costRun(t, size, mode) {
  const room = `cost-${mode}-${size}-${process.pid}`;
  const peers = [];
  // sfu: a classroom goes to Janus from 3; mesh: the control server's rooms never leave it.
  for (let i = 1; i <= size; i += 1) peers.push(await openTopologyPeer(t.env, room, `c${i}`, { policy: mode === 'sfu' ? 'classroom' : 'meeting' }));
  await waitSettled(peers, mode, { timeout: 60000 });
  await sleep(3000); // bandwidth estimates and simulcast layers settle
  // Chromium: everything this process started except Janus (the signaling server runs in this
  // process, and is left out with it).
  const chromiumCpu = () => cpuOfTree(process.pid) - cpuOf(process.pid) - cpuOfTree(t.janus.pid);
  const b0 = await Promise.all(peers.map(bytesSent));
  const c0 = chromiumCpu();
  const j0 = cpuOfTree(t.janus.pid);
  const w0 = Date.now();
  await sleep(SECONDS * 1000);
  const b1 = await Promise.all(peers.map(bytesSent));
  const secs = (Date.now() - w0) / 1000;
  const chromium = (chromiumCpu() - c0) / secs;
  const janus = (cpuOfTree(t.janus.pid) - j0) / secs;
  const kbps = b1.map((b, i) => ((b - b0[i]) * 8) / secs / 1000);
  return { size, mode, uplinkKbps: median(kbps), maxUplinkKbps: Math.max(...kbps), chromiumCpu: chromium / size, janusCpu: janus };
}

const t = await startTopologyEnv();
const gaps = [];
const controls = [];
const costs = [];
const NEVER = { sfuFrom: 100, classroomSfuFrom: 100, limitedSfuFrom: 100 };
try {
  for (let run = 1; run <= RUNS; run += 1) {
    const r = await withServer(t, { sfuFrom: 5 }, () => meshToSfuAndBack(t.env, `switch-${process.pid}-${run}`));
    gaps.push({ up: r.up.gap, down: r.down.gap, upSwap: r.upSwap.gap, downSwap: r.downSwap.gap, toSfuMs: r.toSfuMs, toMeshMs: r.toMeshMs });
    log(`run ${run}: mesh->sfu gap ${r.up.gap} ms (${r.up.at}), across a swap ${r.upSwap.gap} ms (${r.upSwap.swaps} swaps), settled ${r.toSfuMs} ms; `
      + `sfu->mesh gap ${r.down.gap} ms (${r.down.at}), across a swap ${r.downSwap.gap} ms (${r.downSwap.swaps} swaps), settled ${r.toMeshMs} ms`);
    await sleep(1500);
    const c = await withServer(t, NEVER, () => meshToSfuAndBack(t.env, `control-${process.pid}-${run}`, { expect: 'mesh' }));
    controls.push({ up: c.up.gap, down: c.down.gap });
    log(`control ${run} (no switch): join gap ${c.up.gap} ms (${c.up.at}); leave gap ${c.down.gap} ms (${c.down.at})`);
    await sleep(1500);
  }
  for (const size of SIZES) {
    for (const mode of ['mesh', 'sfu']) {
      const c = await withServer(t, mode === 'mesh' ? NEVER : { classroomSfuFrom: 3 }, () => costRun(t, size, mode));
      costs.push(c);
      log(`${size} peers ${mode}: uplink median ${c.uplinkKbps.toFixed(0)} kbit/s (max ${c.maxUplinkKbps.toFixed(0)}), Chromium CPU ${(c.chromiumCpu * 100).toFixed(0)} % per peer, Janus ${(c.janusCpu * 100).toFixed(0)} %`);
    }
  }
} finally {
  await t.close();
}

const ups = gaps.map((g) => g.up);
const downs = gaps.map((g) => g.down);
const upSwaps = gaps.map((g) => g.upSwap);
const downSwaps = gaps.map((g) => g.downSwap);
const cups = controls.map((g) => g.up);
const cdowns = controls.map((g) => g.down);
log(`mesh -> sfu gap: median ${median(ups)} ms, max ${Math.max(...ups)} ms; sfu -> mesh gap: median ${median(downs)} ms, max ${Math.max(...downs)} ms`);
log(`across the swap itself: up median ${median(upSwaps)} ms, max ${Math.max(...upSwaps)} ms; down median ${median(downSwaps)} ms, max ${Math.max(...downSwaps)} ms`);
log(`control (no switch): join gap median ${median(cups)} ms, max ${Math.max(...cups)} ms; leave gap median ${median(cdowns)} ms, max ${Math.max(...cdowns)} ms`);

if (opt.write) {
  const row = (c) => `| ${c.size} | ${c.mode} | ${c.uplinkKbps.toFixed(0)} | ${c.maxUplinkKbps.toFixed(0)} | ${(c.chromiumCpu * 100).toFixed(0)} % | ${c.mode === 'sfu' ? `${(c.janusCpu * 100).toFixed(0)} %` : '-'} |`;
  const ratio = SIZES.map((size) => {
    const m = costs.find((c) => c.size === size && c.mode === 'mesh');
    const s = costs.find((c) => c.size === size && c.mode === 'sfu');
    return `${size}: uplink sfu/mesh ${(s.uplinkKbps / m.uplinkKbps).toFixed(2)}, CPU sfu/mesh ${(s.chromiumCpu / m.chromiumCpu).toFixed(2)}`;
  }).join('; ');
  writeSection(`<!-- topology:begin (written by tools/bench/topology.mjs --write) -->
## Topology: switch gaps, and mesh vs SFU costs

\`bash tools/netns-run.sh node tools/bench/topology.mjs --runs ${RUNS} --sizes ${SIZES.join(',')} --seconds ${SECONDS} --write\`
(${chromiumVersion()}, Janus 1.1.2 (Debian), ${new Date().toISOString().slice(0, 10)}; every participant is a page of one
headless Chromium with a fake 320x240 camera at 15 fps, simulcast on; Janus and the pages share this machine's 2 cores.)

**Switch gaps.** A meeting of 4 in a mesh; a 5th joins and the room moves to the SFU; two leave and
it moves back to the mesh after the 2 s hold. Each page plays every peer in one \`<video>\` bound
to \`peer.stream\` and times every presented frame (requestVideoFrameCallback); the figure is the
longest gap between two frames of a peer the page was already showing, over all pages, per switch.

Each run is paired with a control run: the same joins and leaves on a server whose rooms never
leave the mesh. On 2 shared cores a join alone stalls frames (five pages' encoders and decoders
compete); the switch's own cost is the difference.

| step | runs | median of the longest gap | max | control: same step, no switch (median / max) | ratio of medians | target |
|---|---|---|---|---|---|---|
| 5th joins: mesh -> SFU | ${RUNS} | **${median(ups)} ms** | ${Math.max(...ups)} ms | ${median(cups)} / ${Math.max(...cups)} ms | ${(median(ups) / median(cups)).toFixed(2)} | < 250 ms |
| 2 leave: SFU -> mesh | ${RUNS} | **${median(downs)} ms** | ${Math.max(...downs)} ms | ${median(cdowns)} / ${Math.max(...cdowns)} ms | ${(median(downs) / median(cdowns)).toFixed(2)} | < 250 ms |

The swap itself, i.e. the frame interval spanning the moment a page moves a peer's video from
one path to the other (every swap of every page, the longest per run): median **${median(upSwaps)} ms**
(max ${Math.max(...upSwaps)} ms) going to the SFU, **${median(downSwaps)} ms** (max ${Math.max(...downSwaps)} ms) coming back; one frame at 15 fps is 67 ms.

Per run (gap up / gap down, ms): ${gaps.map((g) => `${g.up}/${g.down}`).join(', ')}; controls: ${controls.map((g) => `${g.up}/${g.down}`).join(', ')}. Time from the join (leave) to every page
settled on the new path: median ${median(gaps.map((g) => g.toSfuMs))} ms to the SFU, ${median(gaps.map((g) => g.toMeshMs))} ms back to the mesh (this includes the hold).

**Costs per participant** over ${SECONDS} s once settled: each page's outbound RTP bitrate summed over its
connections (median over the pages, and the largest), Chromium's CPU (all its processes) divided by
the participants, and Janus's CPU.

| participants | topology | uplink median (kbit/s) | uplink max (kbit/s) | Chromium CPU per participant | Janus CPU |
|---|---|---|---|---|---|
${costs.map(row).join('\n')}

Ratios: ${ratio}.
<!-- topology:end -->`, 'topology');
  log('docs/BENCHMARKS.md updated');
}
