// `chorus-rtc/opus`: the Opus codec (libopus 1.5.2 compiled to wasm, dist/chorus-opus.wasm) on
// its own. Nothing is fetched until loadOpus() is called, so apps without voice never pay for
// it. Works in pages, workers, AudioWorklets (pass the compiled module: worklets cannot fetch)
// and Node.
//
//   const opus = await loadOpus();
//   const enc = new opus.OpusEncoder({ channels: 1, frameMs: 20, bitrate: 24000 });
//   const packet = enc.encode(float32Frame);          // Uint8Array (a copy)
//   const dec = new opus.OpusDecoder({ channels: 1 });
//   const pcm = dec.decode(packet);                   // Float32Array, interleaved (a copy)
//   dec.conceal(960); dec.decode(next, { fec: true, samples: 960 }); enc.free(); dec.free();

const APPLICATIONS = { voip: 0, audio: 1, lowdelay: 2 };
const ENCODER_DEFAULTS = Object.freeze({
  channels: 1, frameMs: 20, bitrate: 24000, complexity: 5, fec: true, dtx: false, packetLoss: 10,
  application: 'voip',
});
export const SAMPLE_RATE = 48000;
const MAX_PACKET_BYTES = 1275 * 3 + 7;

/** Error texts from the module are ASCII: AudioWorkletGlobalScope has no TextDecoder. */
function cString(mod, ptr) {
  const heap = mod.HEAPU8;
  let s = '';
  for (let i = ptr; heap[i] !== 0; i++) s += String.fromCharCode(heap[i]);
  return s;
}

export class OpusError extends Error {
  constructor(status, text) {
    super(`opus: ${text} (${status})`);
    this.name = 'OpusError';
    this.status = status;
  }
}

function makeApi(mod) {
  const x = mod.asm ?? mod;  // the module's exports (emscripten 3.1.6 keeps them on .asm)
  const fn = (name) => mod[`_${name}`] ?? x[name];
  const f = {};
  for (const name of ['encoder_new', 'encoder_error', 'encoder_configure', 'encoder_input',
    'encoder_encode', 'encoder_packet', 'encoder_free', 'decoder_new', 'decoder_error',
    'decoder_inbox', 'decoder_decode', 'decoder_conceal', 'decoder_pcm', 'decoder_free',
    'strerror', 'packet_samples', 'version', 'alloc', 'dealloc']) {
    f[name] = fn(`chorus_opus_${name}`);
  }
  const fail = (status) => new OpusError(status, cString(mod, f.strerror(status)));

  class OpusEncoder {
    #ptr; #frame; #options;
    constructor(options = {}) {
      const o = { ...ENCODER_DEFAULTS, ...options };
      if (!(o.application in APPLICATIONS)) throw new RangeError('application must be voip, audio or lowdelay');
      this.#ptr = f.encoder_new(o.channels, o.frameMs, o.bitrate, o.complexity, o.fec ? 1 : 0,
        o.dtx ? 1 : 0, o.packetLoss, APPLICATIONS[o.application]);
      const err = cString(mod, f.encoder_error(this.#ptr));
      if (err) {
        f.encoder_free(this.#ptr);
        this.#ptr = 0;
        throw new RangeError(`OpusEncoder: ${err}`);
      }
      this.#options = o;
      this.#frame = (o.frameMs * SAMPLE_RATE) / 1000;
    }
    /** Samples per channel in one frame. */
    get frameSamples() { return this.#frame; }
    get options() { return { ...this.#options }; }
    /** Changes bitrate, complexity, fec, dtx or packetLoss between frames. */
    configure(changes) {
      const o = { ...this.#options, ...changes };
      for (const k of ['channels', 'frameMs', 'application']) {
        if (o[k] !== this.#options[k]) throw new RangeError(`OpusEncoder: ${k} is fixed when the encoder is made`);
      }
      const err = cString(mod, f.encoder_configure(this.#live(), o.bitrate, o.complexity,
        o.fec ? 1 : 0, o.dtx ? 1 : 0, o.packetLoss));
      if (err) throw new RangeError(`OpusEncoder: ${err}`);
      this.#options = o;
    }
    /**
     * Encodes one frame (frameSamples * channels floats, interleaved) and returns the packet
     * as a view into wasm memory, valid until the next call on this encoder.
     */
    encodeView(pcm) {
      const n = this.#frame * this.#options.channels;
      if (pcm.length !== n) throw new RangeError(`OpusEncoder: a frame is ${n} samples, got ${pcm.length}`);
      const ptr = this.#live();
      mod.HEAPF32.set(pcm, f.encoder_input(ptr) >> 2);
      const bytes = f.encoder_encode(ptr);
      if (bytes < 0) throw fail(bytes);
      const at = f.encoder_packet(ptr);
      return mod.HEAPU8.subarray(at, at + bytes);
    }
    /** encodeView(), copied out. */
    encode(pcm) { return this.encodeView(pcm).slice(); }
    free() { if (this.#ptr) f.encoder_free(this.#ptr); this.#ptr = 0; }
    #live() { if (!this.#ptr) throw new Error('OpusEncoder: used after free()'); return this.#ptr; }
  }

  class OpusDecoder {
    #ptr; #channels;
    constructor({ channels = 1 } = {}) {
      this.#ptr = f.decoder_new(channels);
      const err = cString(mod, f.decoder_error(this.#ptr));
      if (err) {
        f.decoder_free(this.#ptr);
        this.#ptr = 0;
        throw new RangeError(`OpusDecoder: ${err}`);
      }
      this.#channels = channels;
    }
    get channels() { return this.#channels; }
    /**
     * Decodes one packet to interleaved float PCM, as a view into wasm memory valid until the
     * next call. { fec: true, samples } decodes the in-band FEC copy of the frame lost just
     * before `packet` (samples: that frame's length). A corrupt packet throws OpusError and
     * leaves the decoder usable.
     */
    decodeView(packet, { fec = false, samples = 0 } = {}) {
      if (!(packet instanceof Uint8Array)) throw new TypeError('OpusDecoder: packet must be a Uint8Array');
      if (packet.length === 0 || packet.length > MAX_PACKET_BYTES) {
        throw new RangeError(`OpusDecoder: a packet is 1..${MAX_PACKET_BYTES} bytes, got ${packet.length}`);
      }
      const ptr = this.#live();
      mod.HEAPU8.set(packet, f.decoder_inbox(ptr));
      return this.#pcm(f.decoder_decode(ptr, packet.length, fec ? 1 : 0, samples));
    }
    decode(packet, options) { return this.decodeView(packet, options).slice(); }
    /** Packet-loss concealment: `samples` per channel (a multiple of 120, at most 5760). */
    concealView(samples) { return this.#pcm(f.decoder_conceal(this.#live(), samples)); }
    conceal(samples) { return this.concealView(samples).slice(); }
    free() { if (this.#ptr) f.decoder_free(this.#ptr); this.#ptr = 0; }
    #pcm(n) {
      if (n < 0) throw fail(n);
      const at = f.decoder_pcm(this.#ptr) >> 2;
      return mod.HEAPF32.subarray(at, at + n * this.#channels);
    }
    #live() { if (!this.#ptr) throw new Error('OpusDecoder: used after free()'); return this.#ptr; }
  }

  /** Samples per channel in a packet (48 kHz), or an OpusError for an invalid one. */
  function packetSamples(packet) {
    const at = f.alloc(packet.length || 1);
    try {
      mod.HEAPU8.set(packet, at);
      const n = f.packet_samples(at, packet.length);
      if (n < 0) throw fail(n);
      return n;
    } finally {
      f.dealloc(at);
    }
  }

  return Object.freeze({ OpusEncoder, OpusDecoder, packetSamples, version: cString(mod, f.version()), module: mod });
}

const loads = new Map();

/**
 * Loads the codec once per realm (per `wasmModule` when one is given).
 * @param {{ wasmModule?: WebAssembly.Module, moduleUrl?: string }} [options]
 *   wasmModule: an already compiled dist/chorus-opus.wasm (required in AudioWorklets);
 *   moduleUrl: where dist/chorus-opus.mjs is, for bundlers that move it.
 */
export function loadOpus(options = {}) {
  const key = options.wasmModule ?? options.moduleUrl ?? 'default';
  if (!loads.has(key)) {
    const load = (async () => {
      const { default: create } = await import(options.moduleUrl ?? '../dist/chorus-opus.mjs');
      return makeApi(await create(options.wasmModule ? moduleSettings(options.wasmModule) : {}));
    })();
    load.catch(() => loads.delete(key));  // a failed fetch may succeed later
    loads.set(key, load);
  }
  return loads.get(key);
}

/**
 * Settings for dist/chorus-opus.mjs's factory that instantiate an already compiled module
 * (nothing fetched), as an AudioWorkletGlobalScope needs: it has no fetch, and no URL class
 * either, which the module would use to locate its .wasm unless given locateFile.
 */
export function moduleSettings(wasmModule) {
  return {
    locateFile: (file) => file,
    instantiateWasm(imports, done) {
      WebAssembly.instantiate(wasmModule, imports).then((instance) => done(instance, wasmModule));
      return {};
    },
  };
}

/** Wraps an already instantiated chorus-opus module (what a worklet that imported it holds). */
export function opusApi(mod) { return makeApi(mod); }

/**
 * The URL of dist/chorus-opus.wasm, to compile once (WebAssembly.compileStreaming) and share.
 * Undefined inside an AudioWorkletGlobalScope, which has no URL class (and cannot fetch).
 */
export const OPUS_WASM_URL = typeof URL === 'function'
  ? new URL('../dist/chorus-opus.wasm', import.meta.url).href
  : undefined;
