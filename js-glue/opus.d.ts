// Types for `chorus-rtc/opus` (js-glue/opus.js): libopus 1.5.2 in wasm, loaded on demand.

/** 48000: the only rate the codec runs at (WebRTC's and Web Audio's). */
export declare const SAMPLE_RATE: 48000;

/** The URL of dist/chorus-opus.wasm, to compile once (WebAssembly.compileStreaming) and share. */
export declare const OPUS_WASM_URL: string;

/** A libopus failure (corrupt packet, bad argument to the codec...). `status` is libopus's code. */
export declare class OpusError extends Error {
  readonly name: 'OpusError';
  /** Negative libopus status, e.g. -4 (OPUS_INVALID_PACKET) for a corrupt packet. */
  readonly status: number;
  constructor(status: number, text: string);
}

export type OpusApplication = 'voip' | 'audio' | 'lowdelay';

export interface OpusEncoderOptions {
  /** 1 or 2 (default 1). Fixed for the encoder's life. */
  channels?: 1 | 2;
  /** Frame length in ms: 10, 20, 40 or 60 (default 20). Fixed. */
  frameMs?: 10 | 20 | 40 | 60;
  /** Bits per second, 6000..510000 (default 24000). */
  bitrate?: number;
  /** 0..10 (default 5): CPU time against quality. */
  complexity?: number;
  /** In-band forward error correction (default true; used where SILK runs, i.e. voice bitrates). */
  fec?: boolean;
  /** Discontinuous transmission: tiny packets during silence (default false). */
  dtx?: boolean;
  /** Expected packet loss in %, 0..100 (default 10): how much FEC to spend. */
  packetLoss?: number;
  /** 'voip' (default), 'audio' or 'lowdelay'. Fixed. */
  application?: OpusApplication;
}

/** The options an encoder runs with (every field filled in). */
export type OpusEncoderSettings = Required<OpusEncoderOptions>;

/** What configure() may change between frames. */
export type OpusEncoderChanges = Partial<Pick<OpusEncoderOptions, 'bitrate' | 'complexity' | 'fec' | 'dtx' | 'packetLoss'>>;

export interface OpusDecodeOptions {
  /** Decode the in-band FEC copy of the frame lost just before this packet. */
  fec?: boolean;
  /** With fec: the lost frame's length in samples per channel. */
  samples?: number;
}

export declare class OpusEncoder {
  /** @throws RangeError for an option out of range. */
  constructor(options?: OpusEncoderOptions);
  /** Samples per channel in one frame (frameMs * 48). */
  readonly frameSamples: number;
  readonly options: OpusEncoderSettings;
  /**
   * Changes bitrate, complexity, fec, dtx or packetLoss between frames.
   * @throws RangeError for a bad value or an attempt to change channels, frameMs or application
   *   (the encoder keeps its previous settings).
   */
  configure(changes: OpusEncoderChanges & Partial<OpusEncoderOptions>): void;
  /**
   * Encodes one frame (frameSamples * channels floats in [-1, 1], interleaved) into a packet.
   * @throws RangeError for a wrong length, Error after free().
   */
  encode(pcm: Float32Array): Uint8Array;
  /** Like encode(), but the packet is a view into wasm memory, valid until the next call. */
  encodeView(pcm: Float32Array): Uint8Array;
  /** Releases the encoder; later calls throw. Calling it again does nothing. */
  free(): void;
}

export declare class OpusDecoder {
  /** @throws RangeError unless channels is 1 or 2. */
  constructor(options?: { channels?: 1 | 2 });
  readonly channels: 1 | 2;
  /**
   * Decodes one packet to interleaved float PCM.
   * @throws OpusError for a corrupt packet (the decoder stays usable), RangeError for an empty or
   *   oversized packet, TypeError for something that is not a Uint8Array, Error after free().
   */
  decode(packet: Uint8Array, options?: OpusDecodeOptions): Float32Array;
  /** Like decode(), but a view into wasm memory, valid until the next call. */
  decodeView(packet: Uint8Array, options?: OpusDecodeOptions): Float32Array;
  /**
   * Packet-loss concealment: `samples` per channel (a multiple of 120, at most 5760).
   * @throws OpusError for another length.
   */
  conceal(samples: number): Float32Array;
  /** Like conceal(), but a view into wasm memory, valid until the next call. */
  concealView(samples: number): Float32Array;
  /** Releases the decoder; later calls throw. Calling it again does nothing. */
  free(): void;
}

/** What loadOpus() / opusApi() give: the codec classes bound to one wasm instance. */
export interface OpusApi {
  readonly OpusEncoder: typeof OpusEncoder;
  readonly OpusDecoder: typeof OpusDecoder;
  /**
   * Samples per channel in a packet at 48 kHz.
   * @throws OpusError for an invalid packet.
   */
  packetSamples(packet: Uint8Array): number;
  /** e.g. "libopus 1.5.2". */
  readonly version: string;
  /** The Emscripten module instance (for code that shares its memory). */
  readonly module: unknown;
}

export interface LoadOpusOptions {
  /** An already compiled dist/chorus-opus.wasm: required in an AudioWorklet, which cannot fetch. */
  wasmModule?: WebAssembly.Module;
  /** Where dist/chorus-opus.mjs is, for bundlers that move it. */
  moduleUrl?: string;
}

/** Loads the codec (once per realm, per wasmModule or moduleUrl). Nothing is fetched before. */
export declare function loadOpus(options?: LoadOpusOptions): Promise<OpusApi>;

/** Wraps an already instantiated chorus-opus module (what a worklet that imported it holds). */
export declare function opusApi(mod: unknown): OpusApi;

/**
 * Settings for dist/chorus-opus.mjs's factory that instantiate an already compiled module
 * without fetching (what an AudioWorkletGlobalScope needs); then wrap the result with opusApi().
 */
export declare function moduleSettings(wasmModule: WebAssembly.Module): {
  locateFile(file: string): string;
  instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void): object;
};
