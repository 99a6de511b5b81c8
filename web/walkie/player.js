// Replays a stored message: its Opus packets decoded on the main thread with chorus-rtc/opus
// (a burst is seconds long: decoding takes milliseconds), gaps concealed, played as one
// AudioBuffer.
import { loadOpus } from '/js-glue/opus.js';
import { getPackets } from './store.js';

const RATE = 48000;
const FRAME = 960;  // what a missing 20 ms packet is concealed with

/** Decodes a message's packets to mono PCM at 48 kHz. */
export async function decodeMessage(id) {
  const [opus, packets] = await Promise.all([loadOpus(), getPackets(id)]);
  const decoder = new opus.OpusDecoder({ channels: 1 });
  const chunks = [];
  let length = 0;
  try {
    let nextTs = packets[0]?.timestamp ?? 0;
    for (const p of packets) {
      // A missing seq leaves a hole in the timestamps: fill it with concealment, frame by frame.
      for (let gap = p.timestamp - nextTs; gap >= FRAME && chunks.length; gap -= FRAME) push(decoder.conceal(FRAME));
      let pcm;
      try {
        pcm = decoder.decode(p.bytes);
      } catch {
        pcm = decoder.conceal(FRAME);  // a corrupt packet stored as received
      }
      push(pcm);
      nextTs = p.timestamp + pcm.length;
    }
  } finally {
    decoder.free();
  }
  const out = new Float32Array(length);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;

  function push(pcm) { chunks.push(pcm); length += pcm.length; }
}

export const rms = (pcm) => {
  let e = 0;
  for (const x of pcm) e += x * x;
  return pcm.length ? Math.sqrt(e / pcm.length) : 0;
};

/** Plays one message at a time through `output`; 'progress' {id, fraction}, 'ended' {id}. */
export class Player extends EventTarget {
  #ctx; #output; #source = null; #id = null; #startedAt = 0; #duration = 0; #raf = 0;

  constructor(audioContext, output = audioContext.destination) {
    super();
    this.#ctx = audioContext;
    this.#output = output;
  }

  get playing() { return this.#id; }

  async play(id) {
    this.stop();
    this.#id = id;
    let pcm;
    try {
      pcm = await decodeMessage(id);
      if (this.#ctx.state === 'suspended') await this.#ctx.resume();
    } catch (err) {
      if (this.#id === id) this.#id = null;  // a second click tries again
      throw err;
    }
    // Stopped, or another message started, while decoding or resuming.
    if (this.#id !== id) return;
    if (pcm.length === 0) return this.#ended(id);
    const buffer = this.#ctx.createBuffer(1, pcm.length, RATE);
    buffer.copyToChannel(pcm, 0);
    const source = this.#source = this.#ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.#output);
    source.onended = () => { if (this.#source === source) this.#ended(id); };
    this.#startedAt = this.#ctx.currentTime;
    this.#duration = buffer.duration;
    source.start();
    this.#tick();
  }

  stop() {
    const id = this.#id;
    if (id === null) return;
    const source = this.#source;
    this.#source = null;
    try { source?.stop(); } catch {}
    this.#ended(id);
  }

  #tick = () => {
    if (!this.#source) return;
    const fraction = Math.min(1, (this.#ctx.currentTime - this.#startedAt) / this.#duration);
    this.dispatchEvent(Object.assign(new Event('progress'), { id: this.#id, fraction }));
    this.#raf = requestAnimationFrame(this.#tick);
  };

  #ended(id) {
    cancelAnimationFrame(this.#raf);
    if (this.#id === id) this.#id = null;
    this.#source = null;
    this.dispatchEvent(Object.assign(new Event('ended'), { id }));
  }
}
