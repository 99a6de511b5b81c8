// Test audio for the Opus benchmark: 48 kHz mono float PCM that makes Opus behave as it does on
// a voice call (SILK/hybrid modes, pitch search, voiced and unvoiced frames, pauses).
//
// speech(seconds): real synthesized speech from espeak-ng when it is installed
// (`apt-get install espeak-ng`), resampled from its 22.05 kHz to 48 kHz; otherwise
// syntheticSpeech(seconds), which is deterministic and needs nothing.
import { execFileSync } from 'node:child_process';

export const RATE = 48000;

const TEXT = 'The quick brown fox jumps over the lazy dog. ' +
  'Dispatch, this is unit four, we are on scene and need a second ambulance. ' +
  'Copy that, unit four. Two more minutes until the crew arrives, stay on the channel. ' +
  'She sells sea shells by the sea shore, and the shells she sells are surely sea shells. ' +
  'Can you hear me now? Over. ';

/** Small deterministic PRNG (mulberry32), uniform in [0, 1). */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A speech-like signal: a glottal pulse train (pitch gliding 90..220 Hz) through three formant
 * resonators that jump between vowel targets every syllable (~4 per second), fricative noise
 * bursts between some syllables, and a pause every few seconds. Peak about 0.5.
 */
export function syntheticSpeech(seconds, seed = 1) {
  const n = Math.round(seconds * RATE);
  const out = new Float32Array(n);
  const rnd = random(seed);
  const vowels = [[730, 1090, 2440], [270, 2290, 3010], [300, 870, 2240], [530, 1840, 2480],
    [640, 1190, 2390], [490, 1350, 1690], [660, 1720, 2410]];
  const state = [[0, 0], [0, 0], [0, 0]];
  let phase = 0;
  let i = 0;
  while (i < n) {
    const syllable = Math.round((0.15 + 0.2 * rnd()) * RATE);
    const pause = rnd() < 0.12 ? Math.round((0.2 + 0.4 * rnd()) * RATE) : 0;
    const fricative = rnd() < 0.35 ? Math.round(0.06 * RATE) : 0;
    const [f1, f2, f3] = vowels[Math.floor(rnd() * vowels.length)];
    const f0a = 90 + 130 * rnd();
    const f0b = 90 + 130 * rnd();
    for (let k = 0; k < fricative && i < n; k++, i++) {
      const env = Math.sin((Math.PI * k) / fricative);
      out[i] = 0.08 * env * (2 * rnd() - 1);
    }
    for (let k = 0; k < syllable && i < n; k++, i++) {
      const u = k / syllable;
      const f0 = f0a + (f0b - f0a) * u;
      phase += f0 / RATE;
      let src = 0;
      if (phase >= 1) { phase -= 1; src = 1; }  // one pulse per pitch period
      src += 0.01 * (2 * rnd() - 1);            // breath
      let y = 0;
      [f1, f2, f3].forEach((f, j) => {
        // two-pole resonator, bandwidth ~ 80 Hz
        const r = Math.exp((-Math.PI * 80) / RATE);
        const c = 2 * r * Math.cos((2 * Math.PI * f) / RATE);
        const s = state[j];
        const v = src + c * s[0] - r * r * s[1];
        s[1] = s[0];
        s[0] = v;
        y += v / (j + 1);
      });
      const env = Math.sin(Math.PI * u) ** 0.5;
      out[i] = 0.05 * env * y;
    }
    for (let k = 0; k < pause && i < n; k++, i++) out[i] = 0.0005 * (2 * rnd() - 1);
  }
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  for (let k = 0; k < n; k++) out[k] *= 0.5 / peak;
  return out;
}

/** 16-bit mono WAV bytes -> { rate, samples: Float32Array }. */
function parseWav(buf) {
  let at = 12;
  let rate = 0;
  while (at + 8 <= buf.length) {
    const id = buf.toString('ascii', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    if (id === 'fmt ') rate = buf.readUInt32LE(at + 12);
    if (id === 'data') {
      const count = Math.min(size, buf.length - at - 8) >> 1;
      const samples = new Float32Array(count);
      for (let k = 0; k < count; k++) samples[k] = buf.readInt16LE(at + 8 + 2 * k) / 32768;
      return { rate, samples };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error('no data chunk in WAV');
}

/** Band-limited resampling (Hann-windowed sinc, 32 taps) from `from` Hz to RATE. */
export function resample(x, from, seconds) {
  const n = Math.round(seconds * RATE);
  const out = new Float32Array(n);
  const step = from / RATE;
  const cutoff = Math.min(1, RATE / from);  // only matters when downsampling
  const half = 16;
  for (let i = 0; i < n; i++) {
    const t = i * step;
    const base = Math.floor(t);
    let acc = 0;
    for (let k = base - half + 1; k <= base + half; k++) {
      if (k < 0 || k >= x.length) continue;
      const d = t - k;
      const w = 0.5 + 0.5 * Math.cos((Math.PI * d) / half);
      const s = d === 0 ? 1 : Math.sin(Math.PI * cutoff * d) / (Math.PI * d);
      acc += x[k] * cutoff * s * w;
    }
    out[i] = acc;
  }
  return out;
}

/** { pcm: Float32Array (48 kHz mono), source: a description for the report }. */
export function speech(seconds) {
  let wav;
  try {
    wav = execFileSync('espeak-ng', ['-v', 'en-us', '-s', '165', '--stdout', TEXT.repeat(4)],
      { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return {
      pcm: syntheticSpeech(seconds),
      source: 'synthetic speech-like signal (espeak-ng not installed: `apt-get install espeak-ng` for real speech)',
    };
  }
  const { rate, samples } = parseWav(wav);
  if (samples.length / rate < seconds) throw new Error('espeak-ng produced too little audio');
  const pcm = resample(samples, rate, seconds);
  let peak = 0;
  for (const v of pcm) peak = Math.max(peak, Math.abs(v));
  for (let k = 0; k < pcm.length; k++) pcm[k] *= 0.7 / peak;
  let version = '';
  try {
    version = execFileSync('espeak-ng', ['--version'], { encoding: 'utf8' }).trim().split(/\s+/).slice(0, 2).join(' ');
  } catch { /* the version is only for the report */ }
  return { pcm, source: `${version || 'espeak-ng'} speech (en-us, 165 wpm), resampled ${rate} -> 48000 Hz` };
}
