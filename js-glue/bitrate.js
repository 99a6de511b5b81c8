// Runs one AbrCore (wasm/abr/abr_core.hpp; contract in docs/architecture.md, "Bitrate and
// quality") for a Room: every second it samples each connection that carries media
// (stats-sample.js) and hands the samples to the core, which decides what each local sender
// sends and which simulcast layer each SFU subscription takes. This file only carries that
// out: setParameters on senders, the MediaCore's set-layer, the ClientCore's send-layers, and
// the core's quality / stats / warning events to the Room.
//
// The core lives in the chorus-media module beside the MediaCore (one loadMediaCore() for
// both). It has no timers: every decision follows a stats-sample, so the sampling interval is
// the only clock here.
import { loadMediaCore } from './core.js';
import { now } from './core-loop.js';
import { sampleConnection } from './stats-sample.js';

export const SAMPLE_INTERVAL_MS = 1000;

/** The AbrCore names layers h, m, l; the MediaCore and the app's setVideoQuality low, medium, high. */
const LAYER_NAMES = { h: 'high', m: 'medium', l: 'low' };
export const layerLetter = (quality) => ({ high: 'h', medium: 'm', low: 'l' })[quality] ?? null;

export class Bitrate {
  #host;
  #config;
  #state = 'idle';      // idle, loading, running, stopped (also when the module has no AbrCore)
  #core = null;
  #timer = null;
  #sampling = false;
  #draining = false;
  #pending = new Map(); // inputs before the core runs: the latest per kind and peer
  #chains = new WeakMap(); // sender -> its setParameters chain (one at a time per sender)

  /**
   * @param {{connections(): Array<{id: string, path: 'mesh'|'publish'|'subscribe'|'bridge',
   *            pc: RTCPeerConnection, peerOfMid?(mid: string): string|null|undefined}>,
   *          peerConnection(id: string): RTCPeerConnection|null,
   *          setLayer(peer: string, layer: 'low'|'medium'|'high'): void,
   *          sendLayers(to: string, layer: string): void,
   *          onQuality(ev: object): void, onStats(stats: object): void,
   *          onWarning(ev: {code: string, message: string}): void}} host
   *   connections: the connections that carry media now; peerConnection: one by its AbrCore
   *   id (a mesh peer id, or publisher / subscriber / audiobridge)
   * @param {{control?: boolean}} [o] control: false only measures and scores (no sender or layer
   *   changes: the browser's own congestion control alone)
   */
  constructor(host, { control = true } = {}) {
    this.#host = host;
    this.#config = control ? {} : { control: false };
  }

  get running() { return this.#state === 'running'; }

  /** Loads the module (shared with the MediaCore) and starts sampling; once. */
  start() {
    if (this.#state !== 'idle') return;
    this.#state = 'loading';
    loadMediaCore().then((mod) => {
      if (this.#state !== 'loading') return;
      // A module built before the AbrCore: the room runs as before, without it.
      if (typeof mod.AbrCore !== 'function') {
        this.#state = 'stopped';
        return;
      }
      this.#core = new mod.AbrCore(JSON.stringify(this.#config));
      this.#state = 'running';
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const input of pending) this.input(input);
      this.#timer = setInterval(() => this.#sample(), SAMPLE_INTERVAL_MS);
    }, (err) => {
      if (this.#state !== 'loading') return;
      this.#state = 'idle'; // a later start() may try again
      console.warn('chorus: could not load the media module for bitrate control', err);
    });
  }

  /**
   * An AbrCore input (view-size, layer-preference, layer-wants, peer-removed). Before the core
   * runs only the latest per kind and peer is kept.
   */
  input(input) {
    if (this.#state === 'stopped') return;
    if (!this.#core) {
      const key = `${input.type} ${input.peer ?? input.from ?? ''}`;
      this.#pending.delete(key);
      if (input.type === 'peer-removed') {
        for (const k of [...this.#pending.keys()]) if (k.endsWith(` ${input.peer}`)) this.#pending.delete(k);
      } else {
        this.#pending.set(key, input);
      }
      return;
    }
    this.#handle(input, now());
  }

  /** The room is left: no more samples; the core is freed. */
  stop() {
    const core = this.#core;
    this.#state = 'stopped';
    clearInterval(this.#timer);
    this.#timer = null;
    this.#pending.clear();
    this.#core = null;
    core?.delete();
  }

  async #sample() {
    if (this.#sampling) return; // a getStats() still running (a busy page): skip this beat
    this.#sampling = true;
    try {
      // None connected (the last peer left): an empty sample, so room.stats says so.
      const conns = this.#host.connections().filter(({ pc }) => pc.connectionState === 'connected');
      // The core takes rates over the time between samples: the time the stats were asked
      // for, not when a busy page got round to the answer (that wait varies by 100s of ms).
      const at = now();
      const connections = await Promise.all(conns.map(({ pc, id, path, peerOfMid }) =>
        sampleConnection(pc, { id, path, peerOfMid })));
      if (this.#core) this.#handle({ type: 'stats-sample', connections }, at);
    } catch (err) {
      console.warn('chorus: stats sample failed', err);
    } finally {
      this.#sampling = false;
    }
  }

  #handle(input, nowMs) {
    this.#core.handle(JSON.stringify(input), nowMs);
    this.#drain();
  }

  #drain() {
    if (this.#draining) return; // an app listener fed an input: the loop below picks it up
    this.#draining = true;
    try {
      for (let out = this.#core?.poll(); out; out = this.#core?.poll()) {
        try {
          this.#execute(JSON.parse(out));
        } catch (err) {
          console.warn('chorus: executing an AbrCore output failed', out, err);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #execute(out) {
    switch (out.event) {
      case 'quality': return this.#host.onQuality(out);
      case 'stats': {
        const { event, ...stats } = out;
        return this.#host.onStats(stats);
      }
      case 'warning': return this.#host.onWarning({ code: out.code, message: out.message });
      case undefined: break;
      default: return console.warn('chorus: unknown AbrCore event', out);
    }
    switch (out.action) {
      case 'set-sender-parameters': return this.#setSenderParameters(out);
      case 'set-layer': return this.#host.setLayer(out.peer, LAYER_NAMES[out.layer] ?? out.layer);
      case 'send-layers': return this.#host.sendLayers(out.to, out.layer);
      default: console.warn('chorus: unknown AbrCore output', out);
    }
  }

  /**
   * getParameters(), the given fields onto the encodings with the same rid (or the only one),
   * setParameters(). One change at a time per sender, each on fresh parameters; a refusal is
   * a warning, never an exception.
   */
  #setSenderParameters({ connection, mid, encodings }) {
    const pc = this.#host.peerConnection(connection);
    const sender = pc?.getTransceivers().find((t) => t.mid === mid && !t.stopped)?.sender;
    if (!sender) {
      console.warn(`chorus: set-sender-parameters: no sender for mid ${mid} on ${connection}`);
      return;
    }
    const apply = async () => {
      const params = sender.getParameters();
      const list = params.encodings ?? [];
      let changed = false;
      for (const want of encodings ?? []) {
        const enc = want.rid !== undefined ? list.find((e) => e.rid === want.rid) ?? (list.length === 1 ? list[0] : null)
          : list.length === 1 ? list[0] : null;
        if (!enc) {
          console.warn(`chorus: set-sender-parameters: no encoding ${want.rid ?? '(single)'} for mid ${mid} on ${connection}`);
          continue;
        }
        for (const f of ENCODING_FIELDS) {
          if (want[f] === undefined || enc[f] === want[f]) continue;
          enc[f] = want[f];
          changed = true;
        }
      }
      if (changed) await sender.setParameters(params);
    };
    const chain = (this.#chains.get(sender) ?? Promise.resolve()).then(apply).catch((err) => {
      console.warn(`chorus: setParameters on ${connection} mid ${mid} failed`, err);
    });
    this.#chains.set(sender, chain);
  }
}

const ENCODING_FIELDS = ['active', 'maxBitrate', 'scaleResolutionDownBy', 'maxFramerate'];

/**
 * The rendered size of each peer's video, in device pixels, as the app's elements show it
 * (Room.attachView). A peer shown in several elements counts at its largest; 0 x 0 when none
 * is visible. Reports only changes.
 */
export class ViewSizes {
  #report;
  #views = new Map();    // peer id -> Map<element, {width, height}>
  #peerOf = new WeakMap(); // element -> peer id (the observer's entries name elements only)
  #reported = new Map(); // peer id -> 'w x h' last reported
  #observer = null;

  /** @param {(input: {type: 'view-size', peer: string, width: number, height: number}) => void} report */
  constructor(report) {
    this.#report = report;
  }

  /** Watches `element` as a view of `peerId`; returns the function that stops it. */
  attach(peerId, element) {
    if (typeof peerId !== 'string' || !peerId) throw new TypeError('attachView needs a peer id or a Peer');
    if (!(element instanceof Element)) throw new TypeError('attachView needs an element (e.g. a <video>)');
    this.#observer ??= new ResizeObserver((entries) => this.#resized(entries));
    let views = this.#views.get(peerId);
    if (!views) this.#views.set(peerId, views = new Map());
    views.set(element, { width: 0, height: 0 });
    this.#peerOf.set(element, peerId);
    this.#observer.observe(element);
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      this.#observer?.unobserve(element);
      const v = this.#views.get(peerId);
      if (!v?.delete(element)) return; // the peer left meanwhile (forget)
      if (v.size === 0) this.#views.delete(peerId);
      this.#emit(peerId);
    };
  }

  /** The peer left: its elements are no longer watched (their detach functions become no-ops). */
  forget(peerId) {
    for (const element of this.#views.get(peerId)?.keys() ?? []) this.#observer?.unobserve(element);
    this.#views.delete(peerId);
    this.#reported.delete(peerId);
  }

  /** Stops watching every element. */
  dispose() {
    this.#observer?.disconnect();
    this.#observer = null;
    this.#views.clear();
  }

  #resized(entries) {
    const touched = new Set();
    for (const e of entries) {
      const peerId = this.#peerOf.get(e.target);
      const size = this.#views.get(peerId)?.get(e.target);
      if (!size) continue;
      const box = e.devicePixelContentBoxSize?.[0];
      const dpr = globalThis.devicePixelRatio || 1;
      // An element that is not rendered (display: none, detached from the document) has 0 x 0.
      size.width = Math.round(box ? box.inlineSize : e.contentRect.width * dpr);
      size.height = Math.round(box ? box.blockSize : e.contentRect.height * dpr);
      touched.add(peerId);
    }
    for (const peerId of touched) this.#emit(peerId);
  }

  #emit(peerId) {
    let width = 0;
    let height = 0;
    for (const s of this.#views.get(peerId)?.values() ?? []) {
      if (s.width * s.height > width * height) ({ width, height } = s);
    }
    const key = `${width}x${height}`;
    if (this.#reported.get(peerId) === key) return;
    this.#reported.set(peerId, key);
    this.#report({ type: 'view-size', peer: peerId, width, height });
  }
}
