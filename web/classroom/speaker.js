// Active speaker: audio levels from WebAudio AnalyserNodes (one per audio track), smoothed, and a
// detector with hysteresis so the highlight neither flickers between syllables nor jumps to
// whoever coughs.
//
// SpeakerDetector is pure (no DOM, no clock of its own: the caller passes `now`), so its rules
// are tested in Node (tests/node/classroom-speaker.test.mjs). Levels is the browser half.

/**
 * Rules, per sample (every ~100 ms):
 *   - a peer is a candidate while at least `minLoud` of its samples of the last `windowMs` were
 *     at or above `onLevel` (speech comes in bursts: one loud syllable is not enough, a run of
 *     them is); its loudness is the peak of that window;
 *   - the highlighted peer keeps the highlight until no sample of it reached `offLevel` (below
 *     `onLevel`) for `releaseMs`: a pause between words or sentences does not end it;
 *   - another candidate takes over early only when its loudness has been above the highlighted
 *     peer's times `switchRatio` for `switchMs`.
 */
export class SpeakerDetector {
  #opts;
  #history = new Map();  // id -> [{t, level}] of the last windowMs
  #lastLoud = new Map(); // id -> last time its level was at or above offLevel
  #louderSince = null;   // {id, t}: a challenger louder than the current speaker since t
  #current = null;

  constructor({ onLevel = 0.02, offLevel = 0.008, windowMs = 500, minLoud = 2, releaseMs = 1200,
    switchRatio = 1.6, switchMs = 700 } = {}) {
    this.#opts = { onLevel, offLevel, windowMs, minLoud, releaseMs, switchRatio, switchMs };
  }

  /** The highlighted peer id, or null. */
  get current() { return this.#current; }

  /**
   * @param {Map<string, number>} levels  id -> level (RMS, 0..1) of everyone who can be heard
   * @param {number} now  ms, increasing
   * @returns {string|null} the highlighted id after this sample
   */
  update(levels, now) {
    const { onLevel, offLevel, windowMs, minLoud, releaseMs, switchRatio, switchMs } = this.#opts;
    for (const id of [...this.#history.keys()]) {
      if (!levels.has(id)) {
        this.#history.delete(id);
        this.#lastLoud.delete(id);
      }
    }
    const loudness = new Map(); // candidates: id -> peak level of the window
    for (const [id, level] of levels) {
      let h = this.#history.get(id);
      if (!h) this.#history.set(id, h = []);
      h.push({ t: now, level });
      while (h.length && h[0].t <= now - windowMs) h.shift();
      if (level >= offLevel) this.#lastLoud.set(id, now);
      let loud = 0;
      let peak = 0;
      for (const x of h) {
        if (x.level >= onLevel) loud++;
        peak = Math.max(peak, x.level);
      }
      if (loud >= minLoud) loudness.set(id, peak);
    }

    // The current speaker left, or has been quiet for releaseMs.
    const cur = this.#current;
    if (cur !== null && (!levels.has(cur) || now - (this.#lastLoud.get(cur) ?? -Infinity) >= releaseMs)) {
      this.#current = null;
    }

    let best = null;
    for (const [id, peak] of loudness) if (best === null || peak > loudness.get(best)) best = id;

    if (this.#current === null) {
      this.#current = best;
      this.#louderSince = null;
      return this.#current;
    }
    // Someone else takes over while the current speaker still talks only when clearly louder for
    // a while.
    const curPeak = Math.max(...(this.#history.get(this.#current) ?? []).map((x) => x.level), 0);
    if (best === null || best === this.#current || loudness.get(best) < curPeak * switchRatio) {
      this.#louderSince = null;
    } else {
      if (this.#louderSince?.id !== best) this.#louderSince = { id: best, t: now };
      if (now - this.#louderSince.t >= switchMs) {
        this.#current = best;
        this.#louderSince = null;
      }
    }
    return this.#current;
  }
}

/**
 * Measures audio tracks: `set(id, track)` attaches one (null detaches), `sample()` returns the
 * smoothed RMS of each. Remote WebRTC audio reaches WebAudio in Chromium only while the track
 * also plays through a media element; the page does that anyway (one <audio> per peer).
 */
export class Levels {
  #ctx;
  #nodes = new Map(); // id -> {track, source, analyser, buf, level}

  /** @param {AudioContext} ctx */
  constructor(ctx) { this.#ctx = ctx; }

  set(id, track) {
    const old = this.#nodes.get(id);
    if (old?.track === track) return;
    if (old) {
      old.source.disconnect();
      this.#nodes.delete(id);
    }
    if (!track || track.readyState !== 'live') return;
    const source = this.#ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = this.#ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser); // an AnalyserNode is pulled without being connected to the output
    this.#nodes.set(id, { track, source, analyser, buf: new Float32Array(analyser.fftSize), level: 0 });
  }

  /** Drops every id not in `keep`. */
  retain(keep) {
    for (const id of [...this.#nodes.keys()]) if (!keep.has(id)) this.set(id, null);
  }

  /** @returns {Map<string, number>} id -> smoothed level (fast attack, slow decay) */
  sample() {
    const out = new Map();
    for (const [id, n] of this.#nodes) {
      if (n.track.readyState !== 'live') continue;
      n.analyser.getFloatTimeDomainData(n.buf);
      let e = 0;
      for (const x of n.buf) e += x * x;
      const rms = n.track.enabled ? Math.sqrt(e / n.buf.length) : 0;
      n.level += (rms - n.level) * (rms > n.level ? 0.7 : 0.25);
      out.set(id, n.level);
    }
    return out;
  }
}
