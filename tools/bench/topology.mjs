#!/usr/bin/env node
// Topology costs and switches, with a real Janus and Chromium in the test namespace:
//   1. switch gaps: the mesh -> SFU -> mesh scenario of tests/e2e/topology-scenario.mjs (4 peers
//      in a mesh, a 5th joins: SFU; two leave: mesh after the hold), --runs times; the longest
//      gap between frames a page presents for a peer it was already showing, per switch.
//   2. uplink and CPU per participant at 4, 6 and 8 peers, mesh against SFU, one after the
//      other on the same machine: each page's outbound RTP bitrate (all its connections), and
//      the CPU time Chromium (every process) and Janus spent, per participant.
//
//   bash tools/netns-run.sh node tools/bench/topology.mjs [--runs 5] [--sizes 4,6,8] [--seconds 10] [--write]

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { chromiumVersion, writeSection } from './doc.mjs';
import { waitUntil, sleep } from '../../tests/e2e/harness.mjs';
import { startTopologyEnv, openTopologyPeer, waitSettled, meshToSfuAndBack } from '../../tests/e2e/topology-scenario.mjs';

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

// CPU seconds (user + system) of a process and all its descendants.
function cpuOfTree(rootPid) {
  let total = 0;
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i += 1) {
    const pid = pids[i];
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12])) / TICK;
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
  for (let i = 1; i <= size; i += 1) peers.push(await openTopologyPeer(t.env, room, `c${i}`, { policy: mode === 'sfu' ? 'classroom' : 'meeting' }));
  await waitSettled(peers, mode, { timeout: 60000 });
  await sleep(3000); // bandwidth estimates and simulcast layers settle
  const browserPid = t.env.browser.process?.()?.pid;
  const b0 = await Promise.all(peers.map(bytesSent));
  const c0 = cpuOfTree(browserPid);
  const j0 = cpuOfTree(t.janus.pid);
  const w0 = Date.now();
  await sleep(SECONDS * 1000);
  const b1 = await Promise.all(peers.map(bytesSent));
  const secs = (Date.now() - w0) / 1000;
  const chromium = (cpuOfTree(browserPid) - c0) / secs;
  const janus = (cpuOfTree(t.janus.pid) - j0) / secs;
  const kbps = b1.map((b, i) => ((b - b0[i]) * 8) / secs / 1000);
  await t.env.closePeers();
  await sleep(1500);
  return { size, mode, uplinkKbps: median(kbps), maxUplinkKbps: Math.max(...kbps), chromiumCpu: chromium / size, janusCpu: janus };
}

const t = await startTopologyEnv({ topology: { sfuFrom: 5, classroomSfuFrom: 3 } });
const gaps = [];
const costs = [];
try {
  for (let run = 1; run <= RUNS; run += 1) {
    const r = await meshToSfuAndBack(t.env, `switch-${process.pid}-${run}`);
    gaps.push({ up: r.up.gap, down: r.down.gap, toSfuMs: r.toSfuMs, toMeshMs: r.toMeshMs });
    log(`run ${run}: mesh->sfu gap ${r.up.gap} ms (${r.up.at}), settled ${r.toSfuMs} ms; sfu->mesh gap ${r.down.gap} ms (${r.down.at}), settled ${r.toMeshMs} ms`);
    await t.env.closePeers();
    await sleep(1500);
  }
  for (const size of SIZES) {
    for (const mode of ['mesh', 'sfu']) {
      const c = await costRunWithServer(size, mode);
      costs.push(c);
      log(`${size} peers ${mode}: uplink median ${c.uplinkKbps.toFixed(0)} kbit/s (max ${c.maxUplinkKbps.toFixed(0)}), Chromium CPU ${(c.chromiumCpu * 100).toFixed(0)} % per peer, Janus ${(c.janusCpu * 100).toFixed(0)} %`);
    }
  }
} finally {
  await t.close();
}

// The meeting rooms of the cost runs need their own thresholds: mesh never leaves it, sfu takes
// Janus from 3. One signaling server per mode (the selector's config is the server's).
async function costRunWithServer(size, mode) {
  const { startTestServer } = await import('../../tests/e2e/harness.mjs');
  const topology = mode === 'mesh' ? { sfuFrom: 100, classroomSfuFrom: 100, limitedSfuFrom: 100 } : { classroomSfuFrom: 3 };
  const server = await startTestServer({ config: { janus: { url: t.janus.wsUrl }, topology } });
  const prev = { server: t.env.server, origin: t.env.origin };
  t.env.server = server;
  t.env.origin = server.origin;
  try {
    await waitUntil(async () => (await fetch(`${server.origin}/healthz`).then((r) => r.json())).mediaServer?.reachable,
      { timeout: 10000, message: 'the server sees Janus' });
    return await costRun({ ...t, server }, size, mode);
  } finally {
    await server.close();
    Object.assign(t.env, prev);
  }
}

const ups = gaps.map((g) => g.up);
const downs = gaps.map((g) => g.down);
log(`mesh -> sfu gap: median ${median(ups)} ms, max ${Math.max(...ups)} ms; sfu -> mesh gap: median ${median(downs)} ms, max ${Math.max(...downs)} ms`);

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

| switch | runs | median of the longest gap | max | target |
|---|---|---|---|---|
| mesh -> SFU | ${RUNS} | **${median(ups)} ms** | ${Math.max(...ups)} ms | < 250 ms |
| SFU -> mesh | ${RUNS} | **${median(downs)} ms** | ${Math.max(...downs)} ms | < 250 ms |

Per run (gap up / gap down, ms): ${gaps.map((g) => `${g.up}/${g.down}`).join(', ')}. Time from the join (leave) to every page
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
