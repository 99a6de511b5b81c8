// The walkie's connection: one channel (a chorus room) at a time with push-to-talk on it.
// Switching channel, name or role leaves the room and joins anew; a failed join (offline,
// server down) is retried with backoff. The microphone is opened once and kept across
// channels; without one the radio still listens (a silent stream stands in for it).
import { Room } from '/js-glue/index.js';

const RETRY_MS = [500, 1000, 2000, 4000, 8000, 15000];

export class Radio extends EventTarget {
  #ctx; #output; #mic = null; #micRequest = null; #micState = 'unknown';
  #gen = 0;            // bumps on every connect(): answers for an older one are dropped
  #retries = 0;
  #retryTimer = 0;
  #wanted = null;      // {channel, name, role}
  room = null;
  ptt = null;
  state = 'idle';      // idle | connecting | joined | reconnecting | offline | refused

  /** @param {{audioContext: AudioContext, output: AudioNode}} o where received voice plays */
  constructor({ audioContext, output }) {
    super();
    this.#ctx = audioContext;
    this.#output = output;
    window.addEventListener('online', () => { if (this.state === 'offline') this.#retryNow(); });
  }

  /** 'unknown' | 'ok' | 'unavailable' (listening only) */
  get micState() { return this.#micState; }
  get microphone() { return this.#mic; }
  get wanted() { return this.#wanted; }

  /** Leaves the current channel (if any) and joins {channel, name, role}. */
  connect(wanted) {
    this.#wanted = { ...wanted };
    this.#retries = 0;
    this.#retryNow();
  }

  #retryNow() {
    clearTimeout(this.#retryTimer);
    this.#drop();
    const gen = ++this.#gen;
    this.#join(gen).catch((err) => {
      if (gen !== this.#gen) return;
      console.warn(`walkie: joining ${this.#wanted.channel} failed:`, err?.code ?? '', err?.message ?? err);
      this.#drop();
      // The server refused the role itself (e.g. --no-dispatchers): retrying would not help.
      if (err?.code === 'floor-denied') return this.#setState('refused', err);
      this.#setState('offline', err);
      this.#retryTimer = setTimeout(() => { if (gen === this.#gen) this.#retryNow(); }, RETRY_MS[Math.min(this.#retries++, RETRY_MS.length - 1)]);
    });
  }

  async #join(gen) {
    const { channel, name, role } = this.#wanted;
    this.#setState('connecting');
    const microphone = await this.#microphone();
    const room = await Room.join({ room: channel, name, role, media: { audio: false, video: false } });
    if (gen !== this.#gen) return room.leave();
    this.room = room;
    window.chorus = { room };  // what the e2e harness looks at
    let ptt;
    try {
      ptt = await room.pushToTalk({ audioContext: this.#ctx, output: this.#output, microphone });
    } catch (err) {
      room.leave();
      throw err;
    }
    if (gen !== this.#gen) { ptt.close(); return room.leave(); }
    this.ptt = ptt;
    this.#retries = 0;
    room.addEventListener('statechange', ({ state }) => {
      if (gen !== this.#gen) return;
      if (state === 'left') {  // the library gave up reconnecting, or a fatal error
        this.#setState('offline');
        this.#retryTimer = setTimeout(() => { if (gen === this.#gen) this.#retryNow(); }, RETRY_MS[0]);
      } else if (state === 'joined' || state === 'reconnecting') {
        this.#setState(state);
      }
    });
    this.dispatchEvent(Object.assign(new Event('room'), { room, ptt }));
    this.#setState('joined');
  }

  /** Opened once: a channel switch during the permission prompt waits for the same request. */
  #microphone() {
    this.#micRequest ??= navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    }).then((stream) => {
      this.#mic = stream;
      this.#micState = 'ok';
      return stream;
    }, () => {
      // No microphone: listen only (pushToTalk({ microphone: false })), so this device still
      // hears the channel and keeps its recent messages.
      this.#mic = false;
      this.#micState = 'unavailable';
      return false;
    });
    return this.#micRequest;
  }

  #drop() {
    const { room, ptt } = this;
    this.room = this.ptt = null;
    if (room || ptt) this.dispatchEvent(Object.assign(new Event('leaving'), { room, ptt }));
    ptt?.close();
    room?.leave();
  }

  #setState(state, error = null) {
    this.state = state;
    this.dispatchEvent(Object.assign(new Event('state'), { state, error }));
  }
}
