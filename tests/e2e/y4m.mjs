// A heavy fake camera for Chromium: a YUV4MPEG2 file (4:2:0, `C420jpeg`) whose frames are hard
// to compress, for `--use-file-for-fake-video-capture=<file>` (Chromium loops the file).
//
// Each frame: moving diagonal gradients in luma and chroma, moving bars, and fresh random noise
// on every pixel of every frame (motion search cannot predict it), so VP8 uses whatever bitrate
// it is allowed; the built-in fake camera (a mostly flat animation) sends only ~0.5 Mbit/s.
//
//   import { heavyY4m } from './y4m.mjs';
//   const file = heavyY4m({ width: 1280, height: 720, fps: 30, seconds: 2 });
//
// The file is written once per parameter set into os.tmpdir() (chorus-heavy-<params>.y4m),
// through a temporary name and a rename, so concurrent callers never read a half file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';

const VERSION = 1; // bump when the content changes, so cached files are regenerated

/** Path of a cached heavy y4m with these parameters; writes it first if missing.
 *  `noise`: amplitude of the per-frame random noise in luma steps (0..127). */
export function heavyY4m({ width = 1280, height = 720, fps = 30, seconds = 2, noise = 40, dir = os.tmpdir() } = {}) {
  if (width % 2 || height % 2) throw new RangeError('width and height must be even (4:2:0)');
  const file = path.join(dir, `chorus-heavy-v${VERSION}-${width}x${height}-${fps}fps-${seconds}s-n${noise}.y4m`);
  const frames = Math.max(1, Math.round(fps * seconds));
  const frameBytes = width * height * 3 / 2;
  const expected = headerOf(width, height, fps).length + frames * (6 + frameBytes);
  try {
    if (fs.statSync(file).size === expected) return file;
  } catch { /* not there yet */ }
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, headerOf(width, height, fps));
    const frameHeader = Buffer.from('FRAME\n');
    const buf = Buffer.alloc(frameBytes);
    const rnd = Buffer.alloc(width * height);
    for (let f = 0; f < frames; f += 1) {
      writeFrame(buf, rnd, width, height, f, frames, noise);
      fs.writeSync(fd, frameHeader);
      fs.writeSync(fd, buf);
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return file;
}

function headerOf(width, height, fps) {
  return Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
}

function writeFrame(buf, rnd, w, h, f, frames, noise) {
  crypto.randomFillSync(rnd);
  // Phase goes once around per loop, so the loop point does not jump.
  const phase = f / frames;
  const shift = Math.round(phase * (w + h));
  const bar = Math.round(phase * w * 2) % w;
  const amp = noise * 2 + 1;
  let i = 0;
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1, i += 1) {
      // a diagonal gradient sliding along, 3 periods across the frame
      let v = (((x + y + shift) * 3 * 256) / (w + h)) & 255;
      v = v < 128 ? v * 2 : (255 - v) * 2; // triangle wave: no hard edge
      if (Math.abs(x - bar) < 24) v = 255 - v; // a moving vertical bar
      v = 32 + ((v * 190) >> 8) + ((rnd[i] % amp) - noise);
      buf[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  const cw = w / 2;
  const ch = h / 2;
  const u0 = w * h;
  const v0 = u0 + cw * ch;
  let j = 0;
  for (let y = 0; y < ch; y += 1) {
    for (let x = 0; x < cw; x += 1, j += 1) {
      const r = rnd[(j * 7) % rnd.length];
      buf[u0 + j] = 64 + ((((x + shift) * 2) & 255) >> 1) + (r & 15);
      buf[v0 + j] = 64 + ((((y * 3 + shift) * 2) & 255) >> 1) + (r >> 4);
    }
  }
}

// CLI: node tests/e2e/y4m.mjs [width height fps seconds]
if (import.meta.url === `file://${process.argv[1]}`) {
  const [width, height, fps, seconds] = process.argv.slice(2).map(Number);
  const t0 = Date.now();
  const file = heavyY4m({ ...(width ? { width } : {}), ...(height ? { height } : {}),
    ...(fps ? { fps } : {}), ...(seconds ? { seconds } : {}) });
  console.log(`${file} (${fs.statSync(file).size} bytes, ${Date.now() - t0} ms)`);
}
