#!/usr/bin/env node
// Join latency: chorus-rtc (Room.join) against a hand-written raw RTCPeerConnection mesh client
// (tools/bench/raw/index.html), both talking to the same chorus signaling server, in one run,
// interleaved run by run.
//
//   bash tools/netns-run.sh node tools/bench/join-latency.mjs [--runs 5] [--sizes 2,4] [--write]
//
// One run of size N: N fresh browser contexts load the bench page (chorus or raw), then all N
// call start at one agreed instant T. Measured from T, per run:
//   dc     every peer has a DataChannel open to every other peer (the room is usable for data)
//   video  every peer has decoded a first video frame from every other peer
// Reported: the median over the runs, per implementation, and chorus / raw.
// Both pages get the same probe (tools/bench/probe.js) and the same media constraints.
// --write puts the table into docs/BENCHMARKS.md (between the join-latency markers).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromiumVersion, writeSection } from './doc.mjs';
import { launchBrowser, startTestServer, waitUntil, sleep, fulfillFromDisk, ROOT, HOST } from '../../tests/e2e/harness.mjs';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '2,4' },
    write: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    // Try a candidate js-glue change side by side: files in DIR replace js-glue/ files of the
    // same name for the chorus pages (the others still come from the server).
    glue: { type: 'string' },
  },
});
const RUNS = Number(opt.runs);
const SIZES = opt.sizes.split(',').map(Number);
const IMPLS = ['chorus', 'raw'];
const PROBE = fs.readFileSync(path.join(ROOT, 'tools/bench/probe.js'), 'utf8');
// 640x480 for 2 peers (the fake camera's default), 320x240 at 15 fps for the 4-peer mesh
// (12 encode + 12 decode streams on 2 cores). The same for both implementations.
const mediaFor = (n) => (n <= 2 ? { audio: true, video: { width: 640, height: 480 } }
  : { audio: true, video: { width: 320, height: 240, frameRate: 15 } });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function oneRun(browser, origin, impl, n, label) {
  const contexts = [];
  try {
    const pages = [];
    for (let i = 0; i < n; i++) {
      const ctx = await browser.newContext();
      contexts.push(ctx);
      await ctx.addInitScript({ content: PROBE });
      await ctx.route(`${origin}/bench/**`, (r) => fulfillFromDisk(r, `${origin}/bench/`, path.join(ROOT, 'tools/bench')));
      if (opt.glue) {
        const dir = path.resolve(opt.glue);
        await ctx.route(`${origin}/js-glue/**`, (r) => {
          const name = new URL(r.request().url()).pathname.slice('/js-glue/'.length);
          return fs.existsSync(path.join(dir, name)) ? fulfillFromDisk(r, `${origin}/js-glue/`, dir) : r.continue();
        });
      }
      const page = await ctx.newPage();
      const logs = page.__logs = [];
      page.on('console', (m) => { logs.push(`[${m.type()}] ${m.text()}`); if (logs.length > 50) logs.shift(); });
      page.on('pageerror', (e) => logs.push(`[pageerror] ${e}`));
      await page.goto(`${origin}/bench/${impl}/index.html`);
      await page.waitForFunction(() => window.benchReady === true);
      pages.push(page);
    }
    const room = `bench-${label}`;
    const T = Date.now() + 300;
    await Promise.all(pages.map((page, i) => page.evaluate(({ T, room, name, media }) => {
      return new Promise((resolve) => {
        const go = () => {
          if (Date.now() < T) return setTimeout(go, Math.max(0, Math.min(4, T - Date.now() - 1)));
          window.__bench.markStart();
          window.benchStart({ room, name, media });
          resolve();
        };
        go();
      });
    }, { T, room, name: `p${i}`, media: mediaFor(n) })));
    const done = (s) => s.pcs.length === n - 1 && s.pcs.every((p) => p.dcOpen && p.firstFrame);
    const sums = await waitUntil(async () => {
      const all = await Promise.all(pages.map((p) => p.evaluate(() => window.__bench.summary())));
      return all.every(done) ? all : null;
    }, { timeout: 30000, interval: 100, message: `${impl} ${n} peers: all channels open and all video decoding` })
      .catch(async (e) => {
        const state = await Promise.all(pages.map((p) => p.evaluate(() => ({ summary: window.__bench.summary(),
          error: window.benchError ?? null, raw: window.raw ? window.raw.log : undefined })).catch((x) => String(x))));
        e.message += `\npages: ${JSON.stringify(state)}\nconsole: ${JSON.stringify(pages.map((p) => p.__logs.slice(-10)))}`;
        throw e;
      });
    const dc = Math.max(...sums.flatMap((s) => s.pcs.map((p) => p.dcOpen))) - T;
    const video = Math.max(...sums.flatMap((s) => s.pcs.map((p) => p.firstFrame))) - T;
    const sock = Math.max(...sums.map((s) => s.wsOpen)) - T;
    const skew = Math.max(...sums.map((s) => s.start)) - T;
    if (opt.verbose) sums.forEach((s, i) => console.error(`  ${impl} p${i}: ${s.marks}`));
    return { sock, dc, video, skew };
  } finally {
    await Promise.all(contexts.map((c) => c.close().catch(() => {})));
  }
}

async function main() {
  if (!process.env.CHORUS_NETNS) {
    console.error('warning: not inside tools/netns-run.sh; results may use host interfaces');
  }
  const loadBefore = os.loadavg()[0];
  const server = await startTestServer();
  const origin = server.origin;
  // The bench pages are fulfilled from disk by request interception (routedPages).
  const browser = await launchBrowser({ origins: [origin], routedPages: true });
  const results = {}; // `${impl}/${n}` -> [{dc, video}]
  try {
    // Warm-up (not counted): the first page load compiles and caches everything once.
    for (const impl of IMPLS) await oneRun(browser, origin, impl, 2, `warm-${impl}-${process.pid}`);
    for (const n of SIZES) {
      for (let run = 0; run < RUNS; run++) {
        // Interleaved, alternating which goes first.
        const order = run % 2 ? [...IMPLS].reverse() : IMPLS;
        for (const impl of order) {
          const r = await oneRun(browser, origin, impl, n, `${impl}-${n}-${run}-${process.pid}`);
          (results[`${impl}/${n}`] ??= []).push(r);
          if (opt.verbose) console.error(`${impl} n=${n} run ${run}: socket ${r.sock.toFixed(0)} ms, dc ${r.dc.toFixed(0)} ms, video ${r.video.toFixed(0)} ms (start skew ${r.skew.toFixed(1)} ms)`);
          await sleep(300);
        }
      }
    }
  } finally {
    await browser.close().catch(() => {});
    await server.close();
  }

  const loadAfter = os.loadavg()[0];
  const rows = [];
  for (const n of SIZES) {
    const c = results[`chorus/${n}`];
    const r = results[`raw/${n}`];
    for (const metric of ['sock', 'dc', 'video']) {
      const mc = median(c.map((x) => x[metric]));
      const mr = median(r.map((x) => x[metric]));
      rows.push({ n, metric, chorus: mc, raw: mr, ratio: mc / mr,
        chorusAll: c.map((x) => Math.round(x[metric])), rawAll: r.map((x) => Math.round(x[metric])) });
    }
  }
  const label = { sock: 'signaling socket open (every peer)', dc: 'all DataChannels open',
    video: 'first video frame from every peer' };
  const table = [
    '| peers | milestone (from join) | chorus median | raw median | chorus / raw | chorus runs (ms) | raw runs (ms) |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((x) => `| ${x.n} | ${label[x.metric]} | ${x.chorus.toFixed(0)} ms | ${x.raw.toFixed(0)} ms | ` +
      `${x.ratio.toFixed(2)} | ${x.chorusAll.join(', ')} | ${x.rawAll.join(', ')} |`),
  ].join('\n');
  console.log(table);
  console.log(`load average (1 min): ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`);

  if (opt.write) {
    const cmd = `bash tools/netns-run.sh node tools/bench/join-latency.mjs --runs ${RUNS} --sizes ${SIZES.join(',')} --write`;
    const chromium = await chromiumVersion();
    let commit = '';
    try {
      const { execFileSync } = await import('node:child_process');
      commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
      if (execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'js-glue', 'wasm', 'tools/server'],
        { encoding: 'utf8' }).trim()) commit += ' (+ uncommitted changes in js-glue/wasm/server)';
    } catch { /* not a git checkout */ }
    const section = [
      '<!-- join-latency:begin (written by tools/bench/join-latency.mjs --write) -->',
      '## Join latency: chorus-rtc vs. a raw RTCPeerConnection mesh',
      '',
      `Command: \`${cmd}\``,
      '',
      `Measured ${new Date().toISOString().slice(0, 10)}${commit ? ` at commit ${commit}` : ''}${opt.glue ? ` with js-glue files from ${opt.glue}` : ''} on ${os.cpus().length} cores (${os.cpus()[0]?.model?.trim()}), ` +
      `${chromium}, Node ${process.version}, inside the test network namespace (${HOST}). ` +
      `Median of ${RUNS} runs per row; chorus and raw runs interleaved in one process, alternating order, ` +
      `after one unmeasured warm-up run of each. Load average (1 min) ${loadBefore.toFixed(1)} before, ` +
      `${loadAfter.toFixed(1)} after.`,
      '',
      'All N pages (one Chromium, one context each) call `Room.join()` (chorus) or start the raw client ' +
      '(`tools/bench/raw/index.html`: hand-written protocol v1 client, newcomer offers, one negotiated ' +
      'DataChannel, getUserMedia audio + video) at one agreed instant; the time is taken when the last ' +
      'peer has the milestone with every other peer. One probe (`tools/bench/probe.js`) measures both: ' +
      'DataChannel `open` events, and the first `requestVideoFrameCallback` of a muted `<video>` the probe ' +
      'attaches to each remote video track (first frame decoded and presented). Video: 640x480 for 2 peers, ' +
      '320x240 at 15 fps for 4.',
      '',
      table,
      '',
      'Target: chorus / raw <= 1.10.',
      '<!-- join-latency:end -->',
    ].join('\n');
    writeSection(section, 'join-latency');
    console.log('\nwritten to docs/BENCHMARKS.md');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
