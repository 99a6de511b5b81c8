// Finds where a sound starts after silence, sample-exact, for measuring mouth-to-ear latency
// on both ends of the voice path (the same detector at the talker's microphone and at the
// listener's output, so their processing delays cancel out).
export class OnsetDetector {
  #quietSamples = 0;
  /**
   * @param {{threshold?: number, quietMs?: number, sampleRate?: number}} [o] an onset is the
   *   first sample above `threshold` after at least `quietMs` below it
   */
  constructor({ threshold = 0.05, quietMs = 150, sampleRate = 48000 } = {}) {
    this.threshold = threshold;
    this.quiet = (quietMs * sampleRate) / 1000;
  }
  /** Returns the index of an onset within `block`, or -1. */
  feed(block) {
    let found = -1;
    for (let i = 0; i < block.length; i++) {
      if (Math.abs(block[i]) >= this.threshold) {
        if (this.#quietSamples >= this.quiet && found < 0) found = i;
        this.#quietSamples = 0;
      } else {
        this.#quietSamples++;
      }
    }
    return found;
  }
}
