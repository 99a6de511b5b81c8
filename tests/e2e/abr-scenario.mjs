// Shared by tests/e2e/abr.test.mjs and tools/bench/abr.mjs: peers in their own network
// namespaces (tests/e2e/shaped-net.mjs) on tests/e2e/pages/abr.html, a heavy fake camera
// (tests/e2e/y4m.mjs), getStats sampling, and the numbers computed from the samples.
//
// Rates are kbit/s over windows of the page's own stats timestamps. "Uplink" of a page is every
// outbound RTP byte it sends, payload + RTP headers, audio + video, retransmissions included:
// what goes into the shaped link (minus RTCP, STUN and DTLS/SRTP overhead).
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, sleep, waitUntil, fmt } from './harness.mjs';
import { ShapedNet } from './shaped-net.mjs';
import { heavyY4m } from './y4m.mjs';

/** Whether the chorus controller runs: the glue has the Room option `adaptiveBitrate` and the
 *  built media module (dist/chorus-media.wasm) has the AbrCore (without it the glue runs the
 *  room as before: Chromium's own adaptation). */
export function glueHasAdaptiveBitrate({ glue = path.join(ROOT, 'js-glue'), dist = path.join(ROOT, 'dist') } = {}) {
  try {
    return fs.readFileSync(path.join(glue, 'room.js'), 'utf8').includes('adaptiveBitrate')
      && fs.readFileSync(path.join(dist, 'chorus-media.wasm')).includes('AbrCore');
  } catch {
    return false;
  }
}

export const HEAVY = { width: 1280, height: 720, fps: 30, seconds: 2, noise: 8 };
export const HEAVY_SMALL = { width: 640, height: 360, fps: 30, seconds: 2, noise: 8 };

/** The 4-peer mesh: A on a heavy 640x360 camera behind a `capKbit` uplink; B, C, D light,
 *  without audio (the test and the bench share it). */
export const meshHosts = (capKbit) => [
  { name: 'A', heavy: HEAVY_SMALL, shape: { rateKbit: capKbit } },
  ...['B', 'C', 'D'].map((name) => ({ name, w: 320, h: 240, fps: 15, audio: false })),
];

/**
 * Opens one page per host, each host a namespace with its own Chromium.
 * @param {object} o
 * @param {{origin: string}} o.server   the signaling server (on 10.77.0.1)
 * @param {string} o.room
 * @param {boolean|undefined} o.adaptive  Room option adaptiveBitrate (undefined: not passed)
 * @param {Array<{prefix: string, dir: string}>} [o.serve]  more folders the pages get from disk
 *   (e.g. a snapshot of js-glue/ and dist/ at /js-glue/ and /dist/, so that a rebuild of dist
 *   during a long bench does not change what runs)
 * @param {Array<{name: string, heavy?: object, w?: number, h?: number, fps?: number,
 *                audio?: boolean, shape?: object}>} o.hosts
 * Returns { net, hosts, peers, close() }; peers[i].id is the peer id.
 */
export async function openRig({ server, room, adaptive, hosts: specs, serve = [] }) {
  const net = new ShapedNet();
  const rig = { net, hosts: [], peers: [], close: () => net.cleanup() };
  try {
    for (const spec of specs) {
      const host = net.addHost(spec.name);
      if (spec.shape) net.shape(host, spec.shape);
      const y4m = spec.heavy ? heavyY4m(spec.heavy) : undefined;
      const env = await net.hostEnv(host, { origin: server.origin, y4m });
      for (const { prefix, dir } of serve) env.serveFromDisk(prefix, dir);
      rig.hosts.push(host);
      const query = {
        w: spec.w ?? spec.heavy?.width ?? 320, h: spec.h ?? spec.heavy?.height ?? 240,
        fps: spec.fps ?? spec.heavy?.fps ?? 15, ...(spec.audio === false ? { audio: '0' } : {}),
        ...(adaptive === undefined ? {} : { abr: adaptive ? '1' : '0' }),
      };
      const peer = await env.openPeer({ room, name: spec.name, path: '/e2e/abr.html', query });
      peer.host = host;
      rig.peers.push(peer);
    }
    for (const p of rig.peers) p.id = (await p.waitJoined(30000)).peerId;
  } catch (e) {
    await net.cleanup();
    throw e;
  }
  return rig;
}

/** Waits until the page has decoded at least one video frame on `count` connections. (Not the
 *  harness's waitDecodingFrom: its 5-s "still growing" check fails when a stream starting on a
 *  narrow shaped link waits for a keyframe; the cases measure continuity themselves.) */
export async function waitFirstFrames(peer, count, timeout = 45000) {
  try {
    await waitUntil(async () => (await peer.videoStats()).filter((r) => r.framesDecoded > 0).length >= count,
      { timeout, message: `${peer.name}: video decoded from ${count} peer(s)` });
  } catch (e) {
    e.message += `\n${await peer.describe()}\nstats: ${fmt(await peer.videoStats().catch(() => null))}`;
    throw e;
  }
}

/** Calls window.abr.sample() in a page every `intervalMs` until stop(); keeps
 *  { wall: Date.now(), ...sample } rows in `samples`. */
export class Sampler {
  constructor(peer, intervalMs = 500) {
    Object.assign(this, { peer, intervalMs, samples: [], errors: 0, running: false });
  }

  start() {
    this.running = true;
    this.done = (async () => {
      while (this.running) {
        const t0 = Date.now();
        try {
          const s = await this.peer.evaluate(() => window.abr.sample());
          this.samples.push({ wall: Date.now(), ...s });
        } catch {
          this.errors += 1;
          if (this.peer.closed) break;
        }
        await sleep(Math.max(20, this.intervalMs - (Date.now() - t0)));
      }
    })();
    return this;
  }

  async stop() {
    this.running = false;
    await this.done;
  }

  /** Waits until `fn(samples)` returns a truthy value (checked on every new sample) or
   *  timeoutMs passes; returns the value or null. */
  async waitFor(fn, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let seen = -1;
    while (Date.now() < deadline) {
      if (this.samples.length !== seen) {
        seen = this.samples.length;
        const v = fn(this.samples);
        if (v) return v;
      }
      await sleep(50);
    }
    return null;
  }
}

// --- counters of one sample ----------------------------------------------------------------

const pcsOf = (s, peerId) => s.pcs.filter((r) => peerId === undefined || r.peerId === peerId);

/** Outbound bytes (payload + headers) and the stats time of one sample; `video` only or all. */
export function sentBytes(s, { peerId, videoOnly = false } = {}) {
  let bytes = 0;
  let ts = 0;
  for (const r of pcsOf(s, peerId)) {
    if (r.out) { bytes += r.out.bytes + r.out.headerBytes; ts = Math.max(ts, r.out.ts); }
    if (r.audioOut && !videoOnly) { bytes += r.audioOut.bytes + r.audioOut.headerBytes; ts = Math.max(ts, r.audioOut.ts); }
  }
  return { bytes, ts };
}

/** Inbound video counters of a sample, from `peerId` (or summed over every connection). */
export function inbound(s, peerId) {
  const out = { bytes: 0, packets: 0, packetsLost: 0, framesDecoded: 0, freezeCount: 0, totalFreezesDuration: 0, ts: 0, frameWidth: 0 };
  for (const r of pcsOf(s, peerId)) {
    if (!r.in) continue;
    out.bytes += r.in.bytes + r.in.headerBytes;
    out.packets += r.in.packets;
    out.packetsLost += r.in.packetsLost;
    out.framesDecoded += r.in.framesDecoded;
    out.freezeCount += r.in.freezeCount;
    out.totalFreezesDuration += r.in.totalFreezesDuration;
    out.frameWidth = Math.max(out.frameWidth, r.in.frameWidth);
    out.ts = Math.max(out.ts, r.in.ts);
  }
  return out;
}

/** Video packets sent and lost (as the receiver reports them: remote-inbound-rtp). */
export function remoteLoss(s, peerId) {
  let sent = 0;
  let lost = 0;
  for (const r of pcsOf(s, peerId)) {
    sent += r.out?.packets ?? 0;
    lost += r.remoteIn?.packetsLost ?? 0;
  }
  return { sent, lost };
}

// --- rates -----------------------------------------------------------------------------------

/** kbit/s between samples a and b of counter fn(s) -> {bytes, ts}. */
export function rateBetween(a, b, fn) {
  const x = fn(a);
  const y = fn(b);
  const dt = y.ts - x.ts;
  return dt > 0 ? ((y.bytes - x.bytes) * 8) / dt : null; // bytes*8/ms = kbit/s
}

/** [{wall, kbps}] for every sample that has one `windowMs` before it (1-s windows by default). */
export function windowRates(samples, fn, windowMs = 1000) {
  const out = [];
  let j = 0;
  for (let i = 0; i < samples.length; i += 1) {
    while (j + 1 < i && samples[j + 1].wall <= samples[i].wall - windowMs) j += 1;
    if (samples[i].wall - samples[j].wall < windowMs * 0.9) continue;
    const kbps = rateBetween(samples[j], samples[i], fn);
    if (kbps != null) out.push({ wall: samples[i].wall, kbps });
  }
  return out;
}

/** Samples taken in [from, to] (wall clock). */
export const between = (samples, from, to = Infinity) => samples.filter((s) => s.wall >= from && s.wall <= to);

/** Mean kbit/s of fn over the samples in [from, to] (first to last sample there). */
export function meanRate(samples, fn, from, to) {
  const s = between(samples, from, to);
  return s.length >= 2 ? rateBetween(s[0], s[s.length - 1], fn) : null;
}

/** Longest time (ms) in [from, to] during which framesDecoded did not increase, at the
 *  samplers' resolution. */
export function longestStall(samples, peerId, from, to = Infinity) {
  const s = between(samples, from, to);
  let longest = 0;
  let lastChange = s[0]?.wall;
  let last = s.length ? inbound(s[0], peerId).framesDecoded : 0;
  for (const x of s) {
    const f = inbound(x, peerId).framesDecoded;
    if (f > last) { last = f; lastChange = x.wall; }
    longest = Math.max(longest, x.wall - lastChange);
  }
  return longest;
}

/** First number under a key matching `re` anywhere in obj (room.stats has no fixed shape
 *  here: the glue defines it). */
export function findNumber(obj, re, depth = 0) {
  if (!obj || typeof obj !== 'object' || depth > 5) return null;
  for (const [k, v] of Object.entries(obj)) {
    if (re.test(k) && typeof v === 'number' && Number.isFinite(v)) return { key: k, value: v };
  }
  for (const v of Object.values(obj)) {
    const r = findNumber(v, re, depth + 1);
    if (r) return r;
  }
  return null;
}
