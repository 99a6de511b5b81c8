#!/usr/bin/env node
// Download sizes: every file in dist/ raw and gzip (zlib level 9), the core (.wasm + .js) total,
// and the JS glue (js-glue/*.js) a page loads on top of it.
//
//   node tools/bench/sizes.mjs [--write]     (--write updates docs/BENCHMARKS.md)
//
// Target: core .wasm + .js <= 100 KB gzip.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeSection } from './doc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: opt } = parseArgs({ options: { write: { type: 'boolean', default: false } } });
const TARGET_GZIP = 100 * 1024;

function measure(file) {
  const buf = fs.readFileSync(file);
  return { file: path.relative(ROOT, file), raw: buf.length, gzip: zlib.gzipSync(buf, { level: 9 }).length };
}

function list(dir, filter) {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs).filter(filter).sort().map((f) => path.join(abs, f))
    .filter((f) => fs.statSync(f).isFile());
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const dist = list('dist', () => true).map(measure);
if (!dist.length) {
  console.error('dist/ is empty: build it first (bash tools/build.sh wasm)');
  process.exit(1);
}
const core = dist.filter((x) => /chorus-core\.(wasm|m?js)$/.test(x.file));
const glue = list('js-glue', (f) => f.endsWith('.js')).map(measure);
const sum = (xs, k) => xs.reduce((s, x) => s + x[k], 0);

const lines = [
  '| file | raw | gzip -9 |',
  '|---|---|---|',
  ...dist.map((x) => `| ${x.file} | ${kb(x.raw)} | ${kb(x.gzip)} |`),
  `| **core total** (${core.map((x) => path.basename(x.file)).join(' + ')}) | **${kb(sum(core, 'raw'))}** | **${kb(sum(core, 'gzip'))}** |`,
  `| js-glue/*.js (${glue.length} files, each gzipped alone) | ${kb(sum(glue, 'raw'))} | ${kb(sum(glue, 'gzip'))} |`,
  `| core + glue | ${kb(sum(core, 'raw') + sum(glue, 'raw'))} | ${kb(sum(core, 'gzip') + sum(glue, 'gzip'))} |`,
];
const coreGzip = sum(core, 'gzip');
const verdict = `core gzip ${kb(coreGzip)} vs target ${kb(TARGET_GZIP)}: ${coreGzip <= TARGET_GZIP ? 'within target' : 'OVER TARGET'}`;
// The Opus module (issue 4): its .wasm <= 140 KB gzip; only apps with voice load it.
const OPUS_TARGET_GZIP = 140 * 1024;
const opusWasm = dist.find((x) => x.file.endsWith('chorus-opus.wasm'));
const opusVerdict = opusWasm ? `chorus-opus.wasm gzip ${kb(opusWasm.gzip)} vs target ${kb(OPUS_TARGET_GZIP)}: ${opusWasm.gzip <= OPUS_TARGET_GZIP ? 'within target' : 'OVER TARGET'}` : '';
console.log(lines.join('\n'));
console.log(`\n${verdict}\n${opusVerdict}`);

if (opt.write) {
  let commit = '';
  try {
    const { execFileSync } = await import('node:child_process');
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch { /* not a git checkout */ }
  writeSection([
    '<!-- sizes:begin (written by tools/bench/sizes.mjs --write) -->',
    '## Download size',
    '',
    'Command: `node tools/bench/sizes.mjs --write` (after `bash tools/build.sh wasm`)',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)}${commit ? ` at commit ${commit}` : ''}. gzip is zlib level 9, ` +
    'each file compressed on its own (what a server with static gzip sends). 1 KB = 1024 bytes.',
    '',
    ...lines,
    '',
    `Target: core (.wasm + .js) <= 100 KB gzip. ${verdict}.`,
    '',
    `Target: the Opus module's .wasm <= 140 KB gzip (loaded only by apps that use voice or \`chorus-rtc/opus\`). ${opusVerdict}.`,
    '<!-- sizes:end -->',
  ].join('\n'), 'sizes');
  console.log('written to docs/BENCHMARKS.md');
}
