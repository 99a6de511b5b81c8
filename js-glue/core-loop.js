// The loop that drives a sans-IO core (ClientCore, DataCore): poll until idle, then one timer
// for nextTimeout(). Outputs may feed the core more input (an app listener calling leave() or
// send()): the core takes it at once and this loop picks up its outputs, never re-entering.
// dispose() asked for from inside an output waits until the loop is out.

export const now = () => performance.now();

export class CoreLoop {
  #core;
  #poll;
  #execute;
  #release;
  #timer = null;
  #draining = false;
  #disposeRequested = false;
  #released = false;

  /**
   * @param {object} core an embind core instance, owned from now on (deleted by dispose())
   * @param {{poll(core: object): string, execute(out: string): void, release(): void}} o
   *   poll: one output of the core ('' when idle); execute: carries one out (must not throw
   *   for an output it could not carry out: the loop would stop there); release: frees what the
   *   owner holds, with the core still usable.
   */
  constructor(core, { poll, execute, release }) {
    this.#core = core;
    this.#poll = poll;
    this.#execute = execute;
    this.#release = release;
  }

  /** The core, or null once disposed. */
  get core() { return this.#core; }

  /** Hands one JSON input to the core, then drains. */
  input(input) {
    if (!this.#core) return;
    this.#core.handle(JSON.stringify(input), now());
    this.drain();
  }

  drain() {
    if (this.#draining || !this.#core) return;
    this.#draining = true;
    try {
      for (let out = this.#poll(this.#core); out; out = this.#core ? this.#poll(this.#core) : '') {
        this.#execute(out);
      }
    } finally {
      this.#draining = false;
    }
    if (this.#disposeRequested) this.#doRelease();
    else this.#armTimer();
  }

  /** Frees the owner's objects and the core once the current drain is over. */
  dispose() {
    this.#disposeRequested = true;
    if (!this.#draining) this.#doRelease();
  }

  #doRelease() {
    // release() may feed the core (closing channels ...), which drains: run it once.
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#release();
    this.#core.delete();
    this.#core = null;
  }

  #armTimer() {
    clearTimeout(this.#timer);
    this.#timer = null;
    const at = this.#core.nextTimeout();
    if (at < 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#core) return;
      this.#core.handleTimeout(now());
      this.drain();
    }, Math.max(0, at - now()));
  }
}
