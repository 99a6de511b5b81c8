#!/usr/bin/env node
// Opus speed and size, side by side in one run: our chorus-opus wasm variants (built from
// tools/opus/build.sh VARIANT into build/opus-bench-VARIANT/), npm `opusscript` (libopus 1.4 in
// wasm) and native libopus (1.5.2 from tools/opus/build.sh native, with its run-time dispatched
// SSE/AVX2 intrinsics; and Debian's libopus-dev 1.3.1 when pkg-config finds it).
//
//   node tools/bench/opus.mjs [--variants wasm-os,wasm-mixed,...] [--reps 7] [--seconds 20]
//                             [--signal speech|synthetic] [--write]
//
// Each measurement encodes the whole signal (48 kHz mono, 20 ms frames, VOIP, libopus defaults
// otherwise: no FEC, no DTX) and then decodes that codec's own packets. Configurations are
// 24 and 32 kbps x complexity 5 and 10. One warm-up pass of everything, then --reps rounds; in
// each round every codec runs once per configuration, in a rotated order, so load changes hit
// all of them alike. Time is CPU time of the measuring process (process.cpuUsage() for the
// wasm and opusscript, CLOCK_PROCESS_CPUTIME_ID in tools/opus/opus-pipe.c for native), reported
// as x real time (audio seconds / CPU seconds), median of the rounds.
// Sizes: each variant's chorus-opus.wasm and .mjs, raw and gzip -9.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { opusApi } from '../../js-glue/opus.js';
import { writeSection } from './doc.mjs';
import { speech, syntheticSpeech, RATE } from './opus-signal.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shipped = /^opus_wasm_variant=(\S+)/m.exec(fs.readFileSync(path.join(ROOT, 'tools/build.sh'), 'utf8'))?.[1];
const { values: opt } = parseArgs({
  options: {
    variants: { type: 'string', default: [...new Set([shipped, 'wasm-os', 'wasm-o3', 'wasm-simd'])].join(',') },
    reps: { type: 'string', default: '7' },
    seconds: { type: 'string', default: '20' },
    signal: { type: 'string', default: 'speech' },
    write: { type: 'boolean', default: false },
  },
});
const VARIANTS = opt.variants.split(',').filter(Boolean);
const REPS = Number(opt.reps);
const SECONDS = Number(opt.seconds);
const CONFIGS = [[24000, 5], [24000, 10], [32000, 5], [32000, 10]];
const FRAME = 960;
const TARGET = { vsOpusscript: 1.3, vsNative: 0.6, gzip: 140 * 1024 };
const env = { ...process.env, NODE_PATH: ['/usr/share/nodejs', process.env.NODE_PATH].filter(Boolean).join(':') };
delete env.EM_CACHE;
const log = (...a) => console.error('[opus bench]', ...a);
const sh = (cmd, args, o = {}) => execFileSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 << 20, ...o });

// ---- builds ----------------------------------------------------------------------------------

/**
 * build/opus-bench-VARIANT/out/chorus-opus.{mjs,wasm}, linked the way tools/build.sh links it
 * (CMakeLists.txt's CHORUS_OPUS_LINK_OPT default, -O3). "VARIANT@-Os" links with another emcc
 * level instead: an experiment (shipping it would need that default changed).
 */
function buildVariant(spec) {
  const [variant, linkOpt = '-O3'] = spec.split('@');
  const prefix = sh('bash', ['tools/opus/build.sh', variant], { stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const dir = path.join(ROOT, 'build', `opus-bench-${spec.replace('@', '')}`);
  const cache = path.join(dir, 'CMakeCache.txt');
  const text = fs.existsSync(cache) ? fs.readFileSync(cache, 'utf8') : '';
  if (!text.includes(`CHORUS_OPUS_PREFIX:PATH=${prefix}\n`) || !text.includes(`CHORUS_OPUS_LINK_OPT:STRING=${linkOpt}\n`)) {
    sh('emcmake', ['cmake', '-S', '.', '-B', dir, '-DCMAKE_BUILD_TYPE=MinSizeRel', `-DCHORUS_OPUS_LINK_OPT=${linkOpt}`,
      `-DCHORUS_OPUS_PREFIX=${prefix}`, `-DCHORUS_OPUS_OUTPUT_DIR=${dir}/out`], { stdio: 'ignore' });
  }
  sh('cmake', ['--build', dir, '-j', '2', '--target', 'chorus-opus'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { mjs: path.join(dir, 'out/chorus-opus.mjs'), wasm: path.join(dir, 'out/chorus-opus.wasm') };
}

/** tools/opus/opus-pipe.c against a libopus: { bin, version } or null. */
function buildPipe(name, flags) {
  const bin = path.join(ROOT, 'build', `opus-bench-${name}`, 'opus-pipe');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  sh('gcc', ['-O2', '-o', bin, 'tools/opus/opus-pipe.c', ...flags, '-lm']);
  return { bin, version: sh(bin, ['version']).trim() };
}

function natives() {
  const out = [];
  const prefix = sh('bash', ['tools/opus/build.sh', 'native'], { stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  out.push({ name: 'native 1.5.2', ...buildPipe('native', [`-I${prefix}/include/opus`, `${prefix}/lib/libopus.a`]) });
  try {
    const flags = sh('pkg-config', ['--cflags', '--libs', 'opus']).trim().split(/\s+/);
    const p = buildPipe('debian', flags);
    out.push({ name: `native ${p.version.replace('libopus ', '')} (Debian)`, ...p });
  } catch {
    log('Debian libopus-dev not found (apt-get install libopus-dev pkg-config): left out');
  }
  return out;
}

// ---- codecs: each has encode(pcm, bitrate, complexity) -> { seconds, packets } and decode ---

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

function oursCodec(api) {
  return {
    encode(pcm, bitrate, complexity) {
      const enc = new api.OpusEncoder({ bitrate, complexity, fec: false, packetLoss: 0 });
      const packets = [];
      const t0 = cpu();
      for (let i = 0; i + FRAME <= pcm.length; i += FRAME) packets.push(enc.encode(pcm.subarray(i, i + FRAME)));
      const seconds = cpu() - t0;
      enc.free();
      return { seconds, packets };
    },
    decode(packets) {
      const dec = new api.OpusDecoder({ channels: 1 });
      let samples = 0;
      const t0 = cpu();
      for (const p of packets) samples += dec.decode(p).length;
      const seconds = cpu() - t0;
      dec.free();
      if (samples !== packets.length * FRAME) throw new Error('decode: wrong sample count');
      return seconds;
    },
  };
}

function opusscriptCodec(OpusScript) {
  return {
    encode(pcm, bitrate, complexity) {
      const enc = new OpusScript(RATE, 1, OpusScript.Application.VOIP);
      enc.setBitrate(bitrate);
      enc.encoderCTL(4010, complexity);  // OPUS_SET_COMPLEXITY_REQUEST
      const packets = [];
      // Its API takes 16-bit PCM as bytes: the conversion is part of using it, but done up front.
      const frames = [];
      for (let i = 0; i + FRAME <= pcm.length; i += FRAME) {
        const s = new Int16Array(FRAME);
        for (let k = 0; k < FRAME; k++) s[k] = Math.max(-32768, Math.min(32767, Math.round(pcm[i + k] * 32768)));
        frames.push(Buffer.from(s.buffer));
      }
      const t0 = cpu();
      for (const f of frames) packets.push(enc.encode(f, FRAME));
      const seconds = cpu() - t0;
      enc.delete();
      return { seconds, packets };
    },
    decode(packets) {
      const dec = new OpusScript(RATE, 1, OpusScript.Application.VOIP);
      let bytes = 0;
      const t0 = cpu();
      for (const p of packets) bytes += dec.decode(p).length;
      const seconds = cpu() - t0;
      dec.delete();
      if (bytes !== packets.length * FRAME * 2) throw new Error('opusscript decode: wrong sample count');
      return seconds;
    },
  };
}

// ---- run --------------------------------------------------------------------------------------

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const size = (file) => { const b = fs.readFileSync(file); return { raw: b.length, gzip: zlib.gzipSync(b, { level: 9 }).length }; };
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

log(`building ${VARIANTS.join(', ')} and the native helpers`);
const codecs = [];
const sizes = [];
for (const v of VARIANTS) {
  const files = buildVariant(v);
  const { default: create } = await import(pathToFileURL(files.mjs).href);
  const api = opusApi(await create());
  const s = { name: `chorus-opus ${v}${v === shipped ? ' (shipped)' : ''}`, wasm: size(files.wasm), js: size(files.mjs) };
  sizes.push(s);
  codecs.push({ name: `chorus ${v}${v === shipped ? ' (shipped)' : ''}`, variant: v, size: s, ours: true, ...oursCodec(api) });
}
const require = createRequire(import.meta.url);
const OpusScript = require('opusscript');
const osDir = path.dirname(require.resolve('opusscript'));
const osVersion = JSON.parse(fs.readFileSync(path.join(osDir, 'package.json'), 'utf8')).version;
codecs.push({ name: `opusscript ${osVersion}`, opusscript: true, ...opusscriptCodec(OpusScript) });
sizes.push({ name: `opusscript ${osVersion}`, wasm: size(path.join(osDir, 'build/opusscript_native_wasm.wasm')), js: size(path.join(osDir, 'build/opusscript_native_wasm.js')) });

const signal = opt.signal === 'synthetic'
  ? { pcm: syntheticSpeech(SECONDS), source: 'synthetic speech-like signal (tools/bench/opus-signal.mjs)' }
  : speech(SECONDS);
const pcmFile = path.join(os.tmpdir(), `chorus-opus-bench-${process.pid}.f32`);
fs.writeFileSync(pcmFile, Buffer.from(signal.pcm.buffer, signal.pcm.byteOffset, signal.pcm.byteLength));
const audioSeconds = Math.floor(signal.pcm.length / FRAME) * FRAME / RATE;
for (const n of natives()) {
  codecs.push({
    name: n.name, native: n.name === 'native 1.5.2',
    run(bitrate, complexity) {
      const r = JSON.parse(sh(n.bin, ['bench', pcmFile, String(bitrate), String(complexity)]));
      return { enc: r.encodeSeconds, dec: r.decodeSeconds, bytes: r.bytes };
    },
  });
}
for (const c of codecs.filter((x) => !x.run)) {
  c.run = (bitrate, complexity) => {
    const { seconds, packets } = c.encode(signal.pcm, bitrate, complexity);
    return { enc: seconds, dec: c.decode(packets), bytes: packets.reduce((s, p) => s + p.length, 0) };
  };
}

const loadBefore = load();
log(`signal: ${signal.source}; load ${loadBefore}; warm-up`);
for (const [b, c] of CONFIGS) for (const codec of codecs) codec.run(b, c);
const samples = new Map();  // `${codec}|${config}` -> [{enc, dec, bytes}]
for (let r = 0; r < REPS; r++) {
  for (const [ci, [b, c]] of CONFIGS.entries()) {
    for (let k = 0; k < codecs.length; k++) {
      const codec = codecs[(k + r + ci) % codecs.length];
      const key = `${codec.name}|${b}|${c}`;
      if (!samples.has(key)) samples.set(key, []);
      samples.get(key).push(codec.run(b, c));
    }
  }
  log(`round ${r + 1}/${REPS} done, load ${load()}`);
}
fs.rmSync(pcmFile, { force: true });
const loadAfter = load();

const speed = (codec, b, c, what) => audioSeconds / median(samples.get(`${codec.name}|${b}|${c}`).map((s) => s[what]));
const spread = (codec, b, c, what) => {
  const xs = samples.get(`${codec.name}|${b}|${c}`).map((s) => audioSeconds / s[what]);
  return `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
};
const ref = { os: codecs.find((x) => x.opusscript), native: codecs.find((x) => x.native) };
const lines = [];
for (const what of ['enc', 'dec']) {
  lines.push('', `**${what === 'enc' ? 'Encode' : 'Decode'}**, x real time (median of ${REPS}; min-max in brackets)`, '');
  lines.push(`| codec | ${CONFIGS.map(([b, c]) => `${b / 1000} kbps c${c}`).join(' | ')} |`);
  lines.push(`|---|${CONFIGS.map(() => '---').join('|')}|`);
  for (const codec of codecs) {
    lines.push(`| ${codec.name} | ${CONFIGS.map(([b, c]) => `${speed(codec, b, c, what).toFixed(0)} (${spread(codec, b, c, what)})`).join(' | ')} |`);
  }
  for (const codec of codecs.filter((x) => x.ours)) {
    const vs = (other) => CONFIGS.map(([b, c]) => (speed(codec, b, c, what) / speed(other, b, c, what)).toFixed(2));
    lines.push(`| ${codec.name} / opusscript | ${vs(ref.os).join(' | ')} |`);
    lines.push(`| ${codec.name} / native 1.5.2 | ${vs(ref.native).join(' | ')} |`);
  }
}
lines.push('', '**Bytes per 20 s** (each codec\'s own packets; same bitrate target)', '');
lines.push(`| codec | ${CONFIGS.map(([b, c]) => `${b / 1000} kbps c${c}`).join(' | ')} |`);
lines.push(`|---|${CONFIGS.map(() => '---').join('|')}|`);
for (const codec of codecs) {
  lines.push(`| ${codec.name} | ${CONFIGS.map(([b, c]) => `${median(samples.get(`${codec.name}|${b}|${c}`).map((s) => s.bytes)) * 20 / audioSeconds}`).join(' | ')} |`);
}
lines.push('', '**Size**', '', '| module | .wasm raw | .wasm gzip -9 | .mjs/.js raw | .mjs/.js gzip -9 |', '|---|---|---|---|---|');
for (const s of sizes) lines.push(`| ${s.name} | ${kb(s.wasm.raw)} | ${kb(s.wasm.gzip)} | ${kb(s.js.raw)} | ${kb(s.js.gzip)} |`);

// Targets, per variant: encode >= 1.3x opusscript and >= 0.6x native in every configuration.
const verdicts = codecs.filter((x) => x.ours).map((codec) => {
  const worst = (other) => Math.min(...CONFIGS.map(([b, c]) => speed(codec, b, c, 'enc') / speed(other, b, c, 'enc')));
  const s = codec.size;
  const a = worst(ref.os);
  const n = worst(ref.native);
  const ok = a >= TARGET.vsOpusscript && n >= TARGET.vsNative && s.wasm.gzip <= TARGET.gzip;
  return `- ${codec.variant}: encode worst case ${a.toFixed(2)}x opusscript (target ${TARGET.vsOpusscript}), ` +
    `${n.toFixed(2)}x native (target ${TARGET.vsNative}), .wasm ${kb(s.wasm.gzip)} gzip (target 140 KB): ${ok ? '**meets all**' : 'misses'}`;
});
const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
const header = [
  `Measured ${new Date().toISOString().slice(0, 10)}, ${cpuModel}, ${os.cpus().length} cores shared with other work, ` +
  `load average ${loadBefore} before and ${loadAfter} after. Node ${process.versions.node}. Signal: ${signal.source}, ` +
  `${audioSeconds} s, 48 kHz mono, 20 ms frames, VOIP, no FEC.`,
];
const out = [...header, ...lines, '', 'Targets (encode, every configuration; size of the .wasm):', '', ...verdicts];
console.log(out.join('\n'));

if (opt.write) {
  let commit = '';
  try { commit = sh('git', ['rev-parse', '--short', 'HEAD']).trim(); } catch { /* not a checkout */ }
  const args = process.argv.slice(2).filter((a) => a !== '--write');
  writeSection([
    '<!-- opus:begin (written by tools/bench/opus.mjs --write) -->',
    '## Opus: chorus-opus wasm vs. opusscript vs. native libopus',
    '',
    `Command: \`node tools/bench/opus.mjs${args.length ? ` ${args.join(' ')}` : ''} --write\`${commit ? ` (commit ${commit})` : ''}`,
    '',
    ...out,
    '<!-- opus:end -->',
  ].join('\n'), 'opus');
  console.log('written to docs/BENCHMARKS.md');
}
