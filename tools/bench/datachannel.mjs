#!/usr/bin/env node
// File transfer over DataChannels: chorus-rtc (Room.sendFile, the wasm DataCore on three
// negotiated channels, SHA-256 on both sides) against a raw RTCDataChannel sending the same
// bytes from the same page (tools/bench/dc/index.html), in one run, interleaved run by run.
//
//   bash tools/netns-run.sh node tools/bench/datachannel.mjs [--runs 5] [--mib 256]
//        [--heap-mib 1024] [--heap] [--write]
//
// Per run: two fresh browser contexts (one Chromium) load the bench page, generate the same
// M MiB Blob (tests/e2e/pages/data.html's formula), connect (chorus: Room.join, data only;
// raw: one RTCPeerConnection signaled through the chorus server by the page itself), then A
// sends the Blob to B while sending a 100-byte JSON chat every 50 ms.
//   throughput  M MiB / (B has the whole file as a Blob - A starts sending)   [MB = 10^6 bytes]
//   chat        B's arrival time - A's send stamp (one clock: performance.timeOrigin + now())
// Runs go chorus, raw, chorus, raw, ... after one unmeasured 16 MiB warm-up of each.
// Then (unless --heap-mib 0) one chorus transfer of 1 GiB with the JS heap of both pages
// sampled every 250 ms over CDP (Runtime.getHeapUsage): peak usedSize - usedSize before the
// transfer (after a forced GC), plus the growth of the page's wasm memory.
// --heap: only the heap run. --write: the tables into docs/BENCHMARKS.md (datachannel markers).

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { chromiumVersion, writeSection } from './doc.mjs';
import { launchBrowser, startTestServer, waitUntil, sleep, fulfillFromDisk, ROOT, HOST } from '../../tests/e2e/harness.mjs';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    mib: { type: 'string', default: '256' },
    'heap-mib': { type: 'string', default: '1024' },
    heap: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    // No chat during the transfers (to see what the chat costs).
    'no-chat': { type: 'boolean', default: false },
    // Serve /js-glue/ and /dist/ to the pages from DIR/js-glue and DIR/dist (a build of a
    // committed tree, e.g. from `git archive HEAD`), not from this working tree.
    build: { type: 'string' },
    // DataCore options for the chorus pages (JSON), to compare pacing settings.
    data: { type: 'string' },
  },
});
const RUNS = Number(opt.runs);
const MIB = Number(opt.mib);
const HEAP_MIB = Number(opt['heap-mib']);
const HEAP_ONLY = opt.heap;
const CHAT = !opt['no-chat'];
const BUILD = opt.build ? path.resolve(opt.build) : null;
const IMPLS = ['chorus', 'raw'];
const MiB = 1 << 20;
const HEAP_TARGET = 64 * MiB;
const RATIO_TARGET = 0.95;

const log = (...a) => console.error(...a);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

const shaCache = new Map();
/** SHA-256 of the file the page generates for `mib` (same formula as its bench.block). */
function expectedSha256(mib) {
  if (shaCache.has(mib)) return shaCache.get(mib);
  const h = crypto.createHash('sha256');
  const b = Buffer.alloc(MiB);
  for (let i = 0; i < mib; i++) {
    for (let j = 0; j < MiB; j++) b[j] = (j * 7 + i * 13 + (j >> 10)) & 255;
    h.update(b);
  }
  const hex = h.digest('hex');
  shaCache.set(mib, hex);
  return hex;
}

async function openPage(browser, origin, name) {
  const ctx = await browser.newContext();
  await ctx.route(`${origin}/bench/**`, (r) => fulfillFromDisk(r, `${origin}/bench/`, path.join(ROOT, 'tools/bench')));
  if (BUILD) {
    for (const dir of ['js-glue', 'dist']) {
      await ctx.route(`${origin}/${dir}/**`, (r) => fulfillFromDisk(r, `${origin}/${dir}/`, path.join(BUILD, dir)));
    }
  }
  const page = await ctx.newPage();
  const logs = page.__logs = [];
  page.on('console', (m) => { logs.push(`[${m.type()}] ${m.text()}`); if (logs.length > 50) logs.shift(); });
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e}`));
  page.__name = name;
  await page.goto(`${origin}/bench/dc/index.html${opt.data ? `?data=${encodeURIComponent(opt.data)}` : ''}`);
  await page.waitForFunction(() => window.bench?.ready === true);
  return { ctx, page };
}

async function diagnose(pages) {
  const state = await Promise.all(pages.map((p) => p.evaluate(() => {
    const b = window.bench;
    const strip = (x) => x && Object.fromEntries(Object.entries(x).filter(([k]) => !['parts', 'merged', 'blob'].includes(k)));
    return { tx: strip(b.tx), rx: strip(b.rx), errors: b.errors, chats: b.chats.length };
  }).catch((x) => String(x))));
  return `\npages: ${JSON.stringify(state)}\nconsole: ${JSON.stringify(pages.map((p) => p.__logs.slice(-10)))}`;
}

/** Both pages connected; returns B's peer id (chorus) or null (raw). */
async function connect(impl, a, b, room) {
  if (impl === 'chorus') {
    await a.evaluate((room) => window.bench.chorusJoin({ room, name: 'A' }), room);
    const idB = await b.evaluate((room) => window.bench.chorusJoin({ room, name: 'B' }), room);
    // Channel 0 is open once a message gets through (as tests/e2e/datachannel.test.mjs checks).
    await waitUntil(async () => {
      await a.evaluate((to) => { try { window.bench.room.send('ping', { to }); } catch {} }, idB);
      return b.evaluate(() => window.bench.pinged === true);
    }, { timeout: 20000, interval: 200, message: 'chorus A -> B channel open' });
    return idB;
  }
  const pa = a.evaluate((room) => window.bench.rawStart({ room, name: 'A' }), room);
  await sleep(50); // A is in the room first; B, the newcomer, offers
  const pb = b.evaluate((room) => window.bench.rawStart({ room, name: 'B' }), room);
  await Promise.race([Promise.all([pa, pb]), sleep(20000).then(() => { throw new Error('raw channel did not open'); })]);
  return null;
}

/** One transfer of `mib` MiB from A to B. */
async function oneRun(browser, origin, impl, mib, label, { heap = false } = {}) {
  const opened = [];
  try {
    for (const name of ['A', 'B']) opened.push(await openPage(browser, origin, name));
    const [a, b] = opened.map((o) => o.page);
    const size = await a.evaluate((mib) => window.bench.prepare(mib), mib);
    const to = await connect(impl, a, b, `dc-${label}`);
    if (impl === 'raw') await b.evaluate((size) => window.bench.rawExpect(size), size);

    let sampler = null;
    const heapInfo = heap ? { A: {}, B: {} } : null;
    if (heap) {
      const sessions = await Promise.all(opened.map((o) => o.ctx.newCDPSession(o.page)));
      for (const s of sessions) await s.send('HeapProfiler.collectGarbage');
      await sleep(300);
      const sample = async () => Promise.all(sessions.map((s) => s.send('Runtime.getHeapUsage')));
      const base = await sample();
      const wasmBase = await Promise.all([a, b].map((p) => p.evaluate(() => window.bench.wasmMemory())));
      ['A', 'B'].forEach((k, i) => Object.assign(heapInfo[k], {
        base: base[i].usedSize, peak: base[i].usedSize, baseBacking: base[i].backingStorageSize ?? null,
        peakBacking: base[i].backingStorageSize ?? null, wasmBase: wasmBase[i], wasmPeak: wasmBase[i], samples: 0,
        baseTotal: base[i].usedSize + (base[i].backingStorageSize ?? 0),
        peakTotal: base[i].usedSize + (base[i].backingStorageSize ?? 0),
      }));
      let stop = false;
      const loop = (async () => {
        while (!stop) {
          const t = Date.now();
          try {
            const [u, w] = await Promise.all([sample(),
              Promise.all([a, b].map((p) => p.evaluate(() => window.bench.wasmMemory())))]);
            ['A', 'B'].forEach((k, i) => {
              const h = heapInfo[k];
              h.samples++;
              h.peak = Math.max(h.peak, u[i].usedSize);
              h.peakTotal = Math.max(h.peakTotal, u[i].usedSize + (u[i].backingStorageSize ?? 0));
              if (u[i].backingStorageSize != null) h.peakBacking = Math.max(h.peakBacking, u[i].backingStorageSize);
              h.wasmPeak = Math.max(h.wasmPeak, w[i]);
            });
          } catch (e) { if (!stop) log(`heap sample failed: ${e.message}`); }
          await sleep(Math.max(0, 250 - (Date.now() - t)));
        }
      })();
      sampler = async () => { stop = true; await loop; await Promise.all(sessions.map((s) => s.detach().catch(() => {}))); };
    }

    if (impl === 'chorus') await a.evaluate((o) => window.bench.chorusSend({ to: o.to, chat: o.chat }), { to, chat: CHAT });
    else await a.evaluate((chat) => window.bench.rawSend({ chat }), CHAT);

    const timeout = Math.max(60000, mib * 1000); // >= 1 MB/s
    const rx = await waitUntil(() => b.evaluate(() => {
      const r = window.bench.rx;
      return r && r.state !== 'active' && { state: r.state, end: r.end, size: r.size, sha256: r.sha256 ?? null, error: r.error ?? null };
    }), { timeout, interval: 250, message: `${impl} ${mib} MiB: B has the file` })
      .catch(async (e) => { e.message += await diagnose([a, b]); throw e; });
    if (rx.state !== 'complete') throw new Error(`${impl}: receiver ended in ${JSON.stringify(rx)}${await diagnose([a, b])}`);
    if (rx.size !== size) throw new Error(`${impl}: received ${rx.size} bytes of ${size}`);
    const tx = await waitUntil(() => a.evaluate(() => {
      const t = window.bench.tx;
      return t && t.state !== 'active' && { state: t.state, start: t.start, end: t.end, sha256: t.sha256 ?? null };
    }), { timeout: 20000, interval: 100, message: `${impl}: A saw the end of the transfer` });
    if (sampler) await sampler();

    const seconds = (rx.end - tx.start) / 1000;
    const chats = await b.evaluate((end) => window.bench.chats.filter((c) => c.sent <= end), rx.end);
    const lat = chats.map((c) => c.at - c.sent).sort((x, y) => x - y);
    const errors = (await Promise.all([a, b].map((p) => p.evaluate(() => window.bench.errors))))
      .flatMap((e, i) => e.map((x) => `${'AB'[i]}: ${x}`));
    const r = {
      impl, mib, seconds, mbps: size / 1e6 / seconds,
      chats: lat.length, chatBytes: chats[0]?.bytes ?? null,
      p50: lat.length ? quantile(lat, 0.5) : NaN, p95: lat.length ? quantile(lat, 0.95) : NaN, max: lat.at(-1) ?? NaN,
      shaTx: tx.sha256, shaRx: rx.sha256, errors, heap: heapInfo,
    };
    if (impl === 'chorus') {
      const want = expectedSha256(mib);
      r.shaOk = r.shaTx === want && r.shaRx === want;
      if (!r.shaOk) log(`  SHA-256 MISMATCH: sender ${r.shaTx}, receiver ${r.shaRx}, expected ${want}`);
    }
    return r;
  } finally {
    await Promise.all(opened.map((o) => o.ctx.close().catch(() => {})));
  }
}

const fmtRun = (r) => `${r.impl} ${r.mib} MiB: ${r.seconds.toFixed(2)} s, ${r.mbps.toFixed(2)} MB/s; ` +
  `${r.chats} chats, p50 ${r.p50.toFixed(0)} / p95 ${r.p95.toFixed(0)} / max ${r.max.toFixed(0)} ms` +
  (r.impl === 'chorus' ? `; SHA-256 ${r.shaOk ? 'ok' : 'MISMATCH'} (${r.shaRx?.slice(0, 12)}…)` : '') +
  (r.errors.length ? `; page errors: ${r.errors.join(' | ')}` : '');

const mb = (x) => `${(x / MiB).toFixed(1)} MiB`;

async function main() {
  if (!process.env.CHORUS_NETNS) log('warning: not inside tools/netns-run.sh; results may use host interfaces');
  const load = { before: os.loadavg(), samples: [] };
  const loadTimer = setInterval(() => load.samples.push(os.loadavg()[0]), 5000);
  if (MIB && !HEAP_ONLY) expectedSha256(MIB);
  const server = await startTestServer();
  const origin = server.origin;
  const browser = await launchBrowser({ origins: [origin], routedPages: true });
  const results = { chorus: [], raw: [] };
  let heapRun = null;
  try {
    if (!HEAP_ONLY) {
      for (const impl of IMPLS) {
        const w = await oneRun(browser, origin, impl, 16, `warm-${impl}-${process.pid}`);
        log(`warm-up ${fmtRun(w)}`);
      }
      for (let run = 0; run < RUNS; run++) {
        for (const impl of IMPLS) {
          const r = await oneRun(browser, origin, impl, MIB, `${impl}-${run}-${process.pid}`);
          results[impl].push(r);
          log(`run ${run + 1}/${RUNS} ${fmtRun(r)} (load ${os.loadavg()[0].toFixed(2)})`);
          await sleep(500);
        }
      }
    }
    if (HEAP_ONLY || HEAP_MIB > 0) {
      const mib = HEAP_MIB || 1024;
      heapRun = await oneRun(browser, origin, 'chorus', mib, `heap-${process.pid}`, { heap: true });
      log(`heap run ${fmtRun(heapRun)}`);
      for (const k of ['A', 'B']) {
        const h = heapRun.heap[k];
        log(`  ${k}: JS heap used ${mb(h.base)} -> peak ${mb(h.peak)} (+${mb(h.peak - h.base)}), ` +
          `array buffers ${h.baseBacking == null ? 'n/a' : `${mb(h.baseBacking)} -> peak ${mb(h.peakBacking)}`}, ` +
          `heap + array buffers +${mb(h.peakTotal - h.baseTotal)}, ` +
          `wasm memory ${mb(h.wasmBase)} -> ${mb(h.wasmPeak)}; ${h.samples} samples`);
      }
    }
  } finally {
    clearInterval(loadTimer);
    await browser.close().catch(() => {});
    await server.close();
  }
  load.after = os.loadavg();
  const loadText = `load average (1 min) ${load.before[0].toFixed(2)} before, ` +
    `${load.samples.length ? `${Math.min(...load.samples).toFixed(2)}-${Math.max(...load.samples).toFixed(2)} during, ` : ''}` +
    `${load.after[0].toFixed(2)} after`;

  // --- report ---
  let table = null;
  let summary = null;
  if (!HEAP_ONLY) {
    const c = results.chorus;
    const r = results.raw;
    const mc = median(c.map((x) => x.mbps));
    const mr = median(r.map((x) => x.mbps));
    summary = { mc, mr, ratio: mc / mr };
    const lat = (xs, k) => median(xs.map((x) => x[k])).toFixed(0);
    const all = (xs) => xs.map((x) => x.mbps.toFixed(1)).join(', ');
    table = [
      '| implementation | median MB/s | chorus / raw | runs (MB/s, in order) | chat p50 / p95 / max (ms, median over runs) | chats per run |',
      '|---|---|---|---|---|---|',
      `| chorus-rtc \`room.sendFile\` | ${mc.toFixed(1)} | **${(mc / mr).toFixed(2)}** | ${all(c)} | ${lat(c, 'p50')} / ${lat(c, 'p95')} / ${lat(c, 'max')} | ${c.map((x) => x.chats).join(', ')} |`,
      `| raw RTCDataChannel | ${mr.toFixed(1)} | 1.00 | ${all(r)} | ${lat(r, 'p50')} / ${lat(r, 'p95')} / ${lat(r, 'max')} | ${r.map((x) => x.chats).join(', ')} |`,
    ].join('\n');
    const perRun = [
      '| run | chorus MB/s | raw MB/s | chorus / raw | chorus chat p50 / p95 / max (ms) | raw chat p50 / p95 / max (ms) |',
      '|---|---|---|---|---|---|',
      ...c.map((x, i) => `| ${i + 1} | ${x.mbps.toFixed(1)} | ${r[i].mbps.toFixed(1)} | ${(x.mbps / r[i].mbps).toFixed(2)} | ` +
        `${x.p50.toFixed(0)} / ${x.p95.toFixed(0)} / ${x.max.toFixed(0)} | ${r[i].p50.toFixed(0)} / ${r[i].p95.toFixed(0)} / ${r[i].max.toFixed(0)} |`),
    ].join('\n');
    summary.pairRatio = median(c.map((x, i) => x.mbps / r[i].mbps));
    table += '\n\nPer run (chorus run i went just before raw run i; the median of the per-pair ratios is ' +
      `${summary.pairRatio.toFixed(2)}):\n\n` + perRun;
    console.log(table);
    const shaBad = c.filter((x) => !x.shaOk).length;
    console.log(`\nSHA-256: ${shaBad ? `${shaBad} chorus run(s) MISMATCHED` : `every chorus run: sender = receiver = expected (${expectedSha256(MIB).slice(0, 16)}…)`}`);
    console.log(`chorus / raw = ${(mc / mr).toFixed(3)} (target >= ${RATIO_TARGET}); median of per-pair ratios ${summary.pairRatio.toFixed(3)}`);
    summary.shaText = shaBad ? `SHA-256 mismatched in ${shaBad} chorus run(s).`
      : `Every chorus run: sender and receiver reported the same SHA-256, equal to the generated file's (computed in Node).`;
  }
  let heapTable = null;
  if (heapRun) {
    const rows = ['A', 'B'].map((k) => {
      const h = heapRun.heap[k];
      const g = h.peak - h.base;
      return `| ${k === 'A' ? 'sender' : 'receiver (default Blob sink)'} | ${mb(h.base)} | ${mb(h.peak)} | **${mb(g)}** | ` +
        `${g < HEAP_TARGET ? 'yes' : 'NO'} | ${h.baseBacking == null ? 'n/a' : `+${mb(h.peakTotal - h.baseTotal)}`} | ` +
        `${mb(h.wasmBase)} -> ${mb(h.wasmPeak)} | ${h.samples} |`;
    });
    heapTable = [
      `| page | JS heap before | peak during | peak growth | under 64 MiB | peak growth of usedSize + ArrayBuffer backing stores | wasm memory | samples |`,
      '|---|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n');
    console.log(`\n${heapRun.mib} MiB chorus transfer: ${heapRun.mbps.toFixed(1)} MB/s, SHA-256 ${heapRun.shaOk ? 'ok' : 'MISMATCH'}\n${heapTable}`);
  }
  console.log(loadText);

  if (opt.write) {
    const args = [HEAP_ONLY ? '--heap' : `--runs ${RUNS} --mib ${MIB}`,
      HEAP_ONLY ? (HEAP_MIB && HEAP_MIB !== 1024 ? `--heap-mib ${HEAP_MIB}` : '') : (HEAP_MIB !== 1024 ? `--heap-mib ${HEAP_MIB}` : ''),
      CHAT ? '' : '--no-chat', BUILD ? `--build ${opt.build}` : '', '--write'].filter(Boolean).join(' ');
    const cmd = `bash tools/netns-run.sh node tools/bench/datachannel.mjs ${args}`;
    const buildNote = BUILD ? `That build dir (\`${opt.build}\`) was made with ` +
      '`git archive <commit> | tar -x -C DIR && echo <commit> > DIR/BUILT_FROM && (cd DIR && bash tools/build.sh wasm)`, ' +
      'so that rebuilds of the shared working tree during the run could not change what was measured.' : '';
    const env = `${new Date().toISOString().slice(0, 10)}${commitText()} on ${os.cpus().length} cores ` +
      `(${os.cpus()[0]?.model?.trim()}), ${chromiumVersion()}, Node ${process.version}, inside the test network ` +
      `namespace (${HOST}); ${loadText}.`;
    if (table) {
      writeSection([
        '<!-- datachannel:begin (written by tools/bench/datachannel.mjs --write) -->',
        '## DataChannel file transfer: chorus-rtc vs. a raw RTCDataChannel',
        '',
        `Command: \`${cmd}\``,
        '',
        `Measured ${env}${buildNote ? ` ${buildNote}` : ''}`,
        '',
        `${MIB} MiB from page A to page B (two browser contexts of one Chromium), ${RUNS} run${RUNS === 1 ? '' : 's'} per implementation, ` +
        'interleaved chorus, raw, chorus, raw, ... with fresh pages per run, after one unmeasured 16 MiB warm-up of each. ' +
        'Both use one page (`tools/bench/dc/index.html`) and one generated Blob. Time: from the send call on A to the ' +
        'whole file as a Blob on B (chorus: B\'s transfer `complete`). MB = 10^6 bytes.',
        '',
        '- chorus: `Room.join` with no media, `room.sendFile(blob, {to})`; the receiver keeps the default Blob sink. ' +
        'The DataCore paces the file on its bulk channel (id 2) and computes SHA-256 on both sides (inside the timed span).',
        '- raw: one RTCPeerConnection per page, signaled through the same chorus server by the page itself (protocol v1, ' +
        'as `tools/bench/raw/index.html`), one negotiated reliable ordered channel. A reads the Blob in 1 MiB slices ' +
        '(one ahead) and sends 256 KiB messages (`pc.sctp.maxMessageSize`), keeping bufferedAmount + message <= 1 MiB, ' +
        'refilled on `bufferedamountlow` (threshold 512 KiB); B wraps each message in a Blob, merges every 64 MiB and ' +
        'ends with one Blob. No hashing.',
        '- chat: A sends a 100-byte JSON message every 50 ms during the transfer, stamped with ' +
        '`performance.timeOrigin + performance.now()`; latency = arrival on B - stamp. chorus: `room.send` (channel 0, ' +
        'apart from the file\'s channel). raw: the same single channel, behind queued file data (what a naive app gets).',
        '',
        table,
        '',
        summary.shaText,
        '',
        `Target: chorus / raw >= ${RATIO_TARGET}: ${summary.ratio >= RATIO_TARGET ? 'met' : 'NOT met'} (${summary.ratio.toFixed(2)}).`,
        '<!-- datachannel:end -->',
      ].join('\n'), 'datachannel');
    }
    if (heapTable) {
      writeSection([
        '<!-- datachannel-heap:begin (written by tools/bench/datachannel.mjs --write) -->',
        `### DataChannel: JS heap during a ${heapRun.mib >= 1024 ? `${heapRun.mib / 1024} GiB` : `${heapRun.mib} MiB`} chorus transfer`,
        '',
        `Command: \`${cmd}\` (the heap run${HEAP_ONLY ? '' : ' comes after the throughput runs'})`,
        '',
        `Measured ${env}${buildNote ? ` ${buildNote}` : ''}`,
        '',
        `One chorus transfer of ${heapRun.mib} MiB as above (chat on), receiver with the default Blob sink. ` +
        'Both pages\' JS heap sampled every 250 ms over CDP (`Runtime.getHeapUsage`, usedSize); the baseline is taken ' +
        'after the Blob was generated, the room joined and a forced GC (`HeapProfiler.collectGarbage`). No GC is ' +
        'forced during the transfer, so the peak includes garbage not yet collected. ArrayBuffer backing stores ' +
        '(`backingStorageSize`) and the wasm memory (shared by the page\'s cores) are outside usedSize and shown apart. ' +
        `Transfer: ${heapRun.seconds.toFixed(1)} s, ${heapRun.mbps.toFixed(1)} MB/s, SHA-256 ${heapRun.shaOk ? 'matched on both sides' : 'MISMATCHED'}.`,
        '',
        heapTable,
        '',
        'Target: peak JS heap growth < 64 MiB on each side.',
        '<!-- datachannel-heap:end -->',
      ].join('\n'), 'datachannel-heap');
    }
    console.log('\nwritten to docs/BENCHMARKS.md');
  }
}

function commitText() {
  if (BUILD) {
    let from = '';
    try { from = fs.readFileSync(path.join(BUILD, 'BUILT_FROM'), 'utf8').trim(); } catch { /* unknown */ }
    return ` with js-glue/ and dist/ from ${from ? `a clean build of commit ${from}` : BUILD}`;
  }
  try {
    let c = ` at commit ${execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}`;
    if (execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'js-glue', 'wasm', 'dist'], { encoding: 'utf8' }).trim()) {
      c += ' (+ uncommitted changes in js-glue/wasm)';
    }
    return c;
  } catch {
    return '';
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
