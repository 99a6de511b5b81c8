// Reports, for the media core's make-before-break, when remote media really plays: a track
// "flows" once its counter grows between two getStats samples (video: framesDecoded, so a
// frame can be shown; audio: packetsReceived, as totalSamplesReceived stays 0 for a track that
// nobody plays out), and stops flowing when the counter stood still for STALL_MS.
//
// Why stats and not only the track's mute/unmute: Chromium does not mute a remote track whose
// sender went silent (replaceTrack(null) on the other side, checked with Chromium 156 for 24 s),
// so a paused mesh link looks "unmuted" forever. mute/unmute are still used as hints: mute
// stops the flow at once, unmute starts fast sampling.
//
// Samples are taken per RTCPeerConnection (one pc.getStats() for all its watched tracks, tens
// of microseconds in Chromium), at FAST_MS while waiting for media, SLOW_MS once it has waited
// FAST_FOR_MS, and CHECK_MS while it flows.
//
// Tracks are grouped (all mesh tracks of one peer form one group: a peer's mesh media flows
// when its video does, or its audio when it sends no video); onChange(group, flowing) fires
// when a group's state changes.

const FAST_MS = 40;
const FAST_FOR_MS = 3000;
const SLOW_MS = 120;
const CHECK_MS = 500;
// Long enough that a page starved of CPU for a moment (its decoder late by seconds, seen on
// 2 shared cores with 5 pages) does not move a peer back and forth between the paths: each
// move asks the peer to resume or pause media, and the resumed path needs a keyframe.
const STALL_MS = 4000;

export class FlowWatch {
  #onChange;
  #entries = new Map(); // track -> {track, pc, key, flowing, last, grewAt, waitingSince, due}
  #groups = new Map();  // key -> {group, flowing, size}
  #timer = null;
  #sampling = false;
  #disposed = false;

  /** @param {(group: object, flowing: boolean) => void} onChange */
  constructor(onChange) {
    this.#onChange = onChange;
  }

  /**
   * Watches `track` (received on `pc`) as part of `group` (a plain object; groups are equal
   * when their JSON is). Watching a track again with another pc or group replaces the old.
   */
  added(track, pc, group) {
    if (this.#disposed) return;
    const key = JSON.stringify(group);
    const old = this.#entries.get(track);
    if (old && old.pc === pc && old.key === key) return;
    if (old) this.removed(track);
    const g = this.#groups.get(key) ?? { group, flowing: false, size: 0 };
    g.size += 1;
    this.#groups.set(key, g);
    const e = {
      track, pc, key, flowing: false, last: null, grewAt: 0, waitingSince: now(), due: Infinity,
      onmute: () => this.#stop(e),
      onunmute: () => this.#wait(e),
      onended: () => this.removed(track),
    };
    this.#entries.set(track, e);
    track.addEventListener('mute', e.onmute);
    track.addEventListener('unmute', e.onunmute);
    track.addEventListener('ended', e.onended);
    // A remote track starts muted and unmutes with its first packet; one already unmuted
    // (watched late) may be flowing now.
    if (!track.muted) this.#wait(e);
  }

  /** Stops watching `track`; its group stops flowing if it was the one that flowed. */
  removed(track) {
    const e = this.#entries.get(track);
    if (!e) return;
    this.#entries.delete(track);
    track.removeEventListener('mute', e.onmute);
    track.removeEventListener('unmute', e.onunmute);
    track.removeEventListener('ended', e.onended);
    e.flowing = false;
    const g = this.#groups.get(e.key);
    g.size -= 1;
    this.#update(e.key);
    if (g.size === 0) this.#groups.delete(e.key);
  }

  /** Stops every sample; nothing more is reported. */
  dispose() {
    this.#disposed = true;
    clearTimeout(this.#timer);
    for (const track of [...this.#entries.keys()]) this.removed(track);
  }

  #wait(e) {
    e.waitingSince = now();
    e.due = now();
    this.#arm();
  }

  #stop(e) {
    e.due = Infinity; // nothing arrives until `unmute`
    if (!e.flowing) return;
    e.flowing = false;
    this.#update(e.key);
  }

  #update(key) {
    const g = this.#groups.get(key);
    if (!g) return;
    // With video in the group, only video counts: its audio arrives first (no keyframe to
    // wait for), and showing the peer from there then would freeze its picture meanwhile.
    const members = [...this.#entries.values()].filter((e) => e.key === key);
    const video = members.filter((e) => e.track.kind === 'video');
    const flowing = (video.length ? video : members).some((e) => e.flowing);
    if (flowing === g.flowing) return;
    g.flowing = flowing;
    if (!this.#disposed) this.#onChange(g.group, flowing);
  }

  #arm() {
    if (this.#disposed || this.#sampling) return;
    clearTimeout(this.#timer);
    let due = Infinity;
    for (const e of this.#entries.values()) due = Math.min(due, e.due);
    if (due === Infinity) return;
    this.#timer = setTimeout(() => this.#sample(), Math.max(0, due - now()));
  }

  async #sample() {
    this.#sampling = true;
    try {
      const t = now();
      const byPc = new Map();
      for (const e of this.#entries.values()) {
        if (e.due <= t) byPc.set(e.pc, [...(byPc.get(e.pc) ?? []), e]);
      }
      await Promise.all([...byPc].map(([pc, list]) => this.#samplePc(pc, list)));
    } finally {
      this.#sampling = false;
    }
    this.#arm();
  }

  async #samplePc(pc, list) {
    let report;
    try {
      report = pc.connectionState === 'closed' ? null : await pc.getStats();
    } catch {
      report = null;
    }
    if (this.#disposed) return;
    const t = now();
    const inbound = [];
    report?.forEach((r) => { if (r.type === 'inbound-rtp') inbound.push(r); });
    for (const e of list) {
      if (this.#entries.get(e.track) !== e) continue; // removed meanwhile
      if (!report) {
        e.due = Infinity; // a closed connection delivers nothing more
        this.#stop(e);
        continue;
      }
      const r = inbound.find((s) => s.trackIdentifier === e.track.id) ?? inbound.find((s) => s.mid !== undefined && s.mid === midOf(pc, e.track));
      const counter = r ? (e.track.kind === 'video' ? r.framesDecoded : r.packetsReceived) ?? null : null;
      const grew = counter !== null && e.last !== null && counter > e.last;
      if (counter !== null) e.last = counter;
      if (grew) e.grewAt = t;
      if (!e.flowing && grew) {
        e.flowing = true;
        this.#update(e.key);
      } else if (e.flowing && t - e.grewAt > STALL_MS) {
        e.flowing = false;
        e.waitingSince = t;
        this.#update(e.key);
      }
      if (e.track.muted && !e.flowing) e.due = Infinity;
      else if (e.flowing) e.due = t + CHECK_MS;
      else e.due = t + (t - e.waitingSince < FAST_FOR_MS ? FAST_MS : SLOW_MS);
    }
  }
}

function midOf(pc, track) {
  return pc.getTransceivers().find((tr) => tr.receiver.track === track)?.mid ?? undefined;
}

const now = () => performance.now();
