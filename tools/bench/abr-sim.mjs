#!/usr/bin/env node
// Bitrate adaptation in a trace-driven simulation: chorus's AbrCore (the same C++ as in the
// browser, built natively) against the browser's congestion control alone (a modelled GCC),
// side by side in one run. The simulator is tools/abr-sim/ (its files say what each part
// models); this wrapper runs it, writes the charts to docs/abr-sim-*.svg and, with --write,
// the `abr-sim` section of docs/BENCHMARKS.md.
//
//   cmake -S . -B build/sim -DCMAKE_BUILD_TYPE=Release -DCHORUS_OPUS_PREFIX=$(bash tools/opus/build.sh native)
//   cmake --build build/sim -j2 --target abr_sim
//   node tools/bench/abr-sim.mjs [--bin build/sim/abr_sim] [--seeds 5] [--write]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeSection } from './doc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: opt } = parseArgs({
  options: {
    bin: { type: 'string', default: 'build/sim/abr_sim' },
    seeds: { type: 'string', default: '5' },
    write: { type: 'boolean', default: false },
  },
});

const bin = path.resolve(ROOT, opt.bin);
if (!fs.existsSync(bin)) {
  console.error(`${opt.bin} is missing; build it first:\n` +
    '  cmake -S . -B build/sim -DCMAKE_BUILD_TYPE=Release -DCHORUS_OPUS_PREFIX=$(bash tools/opus/build.sh native)\n' +
    '  cmake --build build/sim -j2 --target abr_sim');
  process.exit(1);
}
const svgDir = path.join(ROOT, 'docs');
const report = execFileSync(bin, ['--seeds', opt.seeds, '--svg-dir', svgDir], { encoding: 'utf8' }).trimEnd();
console.log(report);

const SCENARIOS = ['steady', 'steps', 'outages', 'lossy', 'mesh'];
const model = [
  'The simulator (`tools/abr-sim/`, native C++) drives the same `AbrCore` as the browser with a',
  '`stats-sample` every simulated second and applies its `set-sender-parameters` to modelled senders;',
  '"browser alone" is the same run without it (every video sender capped at 2.5 Mbit/s, always on).',
  'Model: 5 ms steps; one bottleneck per uplink, a drop-tail FIFO of 200 ms at the current capacity',
  '(at least 15,000 bytes), base RTT 40 ms, random loss after the link on the lossy trace. Each',
  'connection has a simplified GCC (transport feedback every 100 ms; delay trend over 1 s: overuse →',
  '0.85 × acked rate, otherwise +8 %/s or additive near the capacity seen before; loss above 10 % →',
  '× (1 − 0.5 loss); start 300 kbit/s and one start-up probe); its estimate is',
  '`availableOutgoingBitrate`. Audio: Opus 40 kbit/s, 50 packets/s. Video: min(estimate − audio,',
  'maxBitrate), 200 ms rate-control lag, log-normal frame sizes, key frame on resume, pacer at 2.5 ×',
  'the estimate. No mid-call probing: after a rise the model ramps at GCC\'s 8 %/s in both modes, and',
  'the AbrCore can only cap what GCC allows. Each scenario runs with',
  `${opt.seeds} seeds; cells are the median and, in brackets, the range.`,
  '',
  'Definitions: utilization = delivered / capacity in the second half of every step of 8 s or more;',
  'loss = lost / sent packets over the whole run (tail drops + random loss); drop → send < capacity =',
  'time from a capacity drop until the 1-s send rate onto the bottleneck is below the new capacity;',
  'rise → 90 % = time from a capacity rise until the 1-s rate delivered at the far end reaches 90 % of',
  'it (after an outage the first 2 s do not count), "never" = not before the next change; video off =',
  'connection-seconds with the video encoding inactive; queue delay p95 over delivered packets.',
];

if (opt.write) {
  let commit = '';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  const args = process.argv.slice(2).filter((a) => a !== '--write');
  writeSection([
    '<!-- abr-sim:begin (written by tools/bench/abr-sim.mjs --write) -->',
    '## Bitrate: trace simulator (chorus vs the browser\'s control alone)',
    '',
    `Command: \`cmake --build build/sim -j2 --target abr_sim && node tools/bench/abr-sim.mjs${args.length ? ` ${args.join(' ')}` : ''} --write\`` +
      `${commit ? ` (commit ${commit})` : ''}; build/sim is configured as in the file's header.`,
    '',
    `Simulated ${new Date().toISOString().slice(0, 10)}; deterministic (the same seeds give the same figures).`,
    '',
    ...model,
    '',
    report,
    '',
    ...SCENARIOS.map((s) => `![${s}](abr-sim-${s}.svg)`),
    '<!-- abr-sim:end -->',
  ].join('\n'), 'abr-sim');
  console.log('written to docs/BENCHMARKS.md');
}
