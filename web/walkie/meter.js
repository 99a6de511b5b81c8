// Level meters: the RMS of an AnalyserNode, eased and written to a CSS custom property
// (--level, 0..1) on an element every animation frame while someone is audible.
export class Meter {
  #analyser; #el; #buf; #raf = 0; #level = 0;

  constructor(analyser, el) {
    this.#analyser = analyser;
    this.#el = el;
    this.#buf = new Float32Array(analyser.fftSize);
  }

  /** Current RMS of the analysed signal (also a test hook: is anything audible?). */
  rms() {
    this.#analyser.getFloatTimeDomainData(this.#buf);
    let e = 0;
    for (const x of this.#buf) e += x * x;
    return Math.sqrt(e / this.#buf.length);
  }

  start() {
    if (this.#raf) return;
    const frame = () => {
      // Speech RMS sits around 0.02..0.3: a log-ish scale makes quiet talkers visible too.
      const target = Math.min(1, Math.sqrt(this.rms() * 4));
      this.#level += (target - this.#level) * (target > this.#level ? 0.6 : 0.15);
      this.#el.style.setProperty('--level', this.#level.toFixed(3));
      this.#raf = requestAnimationFrame(frame);
    };
    this.#raf = requestAnimationFrame(frame);
  }

  stop() {
    if (!this.#raf) return;
    cancelAnimationFrame(this.#raf);
    this.#raf = 0;
    this.#level = 0;
    this.#el.style.setProperty('--level', '0');
  }
}
