// Push-to-talk on a Room: the walkie-talkie's voice path. Loaded lazily by room.pushToTalk(),
// so rooms without voice never fetch the Opus module.
//
//   microphone -> capture worklet (Opus encode) -> here: stamp the floor's epoch
//     -> DataCore voice frames on the unreliable channel, to every peer
//   DataCore voice events -> playout worklet (VoiceReceiver: floor check, jitter buffer,
//     decode/FEC/PLC) -> speaker
//
// Who may talk is the server's decision (Room.requestFloor); which voice is played is the
// core's (VoiceReceiver). This file moves packets and turns worklet messages into events.
import { ChorusError } from '../errors.js';
import { OPUS_WASM_URL } from '../opus.js';

// Packets encoded between press() and the grant wait here (the first syllable is not lost);
// 50 frames of 20 ms is a second, far more than a grant takes.
const MAX_HELD = 50;

let compiled = null;
/** dist/chorus-opus.wasm, compiled once per page and shared by every worklet. */
function compileOpus() {
  compiled ??= WebAssembly.compileStreaming(fetch(OPUS_WASM_URL)).catch((err) => {
    compiled = null;
    throw err;
  });
  return compiled;
}

function waitReady(node, name) {
  return new Promise((resolve, reject) => {
    node.port.onmessage = ({ data }) => {
      if (data.type === 'ready') resolve();
      else if (data.type === 'failed') reject(new (data.name === 'RangeError' ? RangeError : Error)(`${name}: ${data.message}`));
    };
  });
}

export class PushToTalk extends EventTarget {
  #room; #link; #ctx; #ownsContext; #stream; #ownsStream; #source; #capture; #playout;
  #handles = new Map();  // peer id -> small integer for the core (0 is nobody)
  #peers = new Map();    // and back
  #pressed = false;
  #epoch = 0;            // the grant our packets carry; 0 while not granted
  #revoked = false;      // the floor was taken from us: drop what is still being encoded
  #held = [];
  #talker = null;
  #stats = null;
  #roomListeners = [];
  #closed = false;

  /**
   * @param {import('../room.js').Room} room
   * @param {{sendVoice(epoch: number, seq: number, timestamp: number, last: boolean, packet: Uint8Array): number,
   *          setVoiceSink(sink: ((peerId: string, header: object, packet: Uint8Array) => void) | null): void}} link
   * @param {object} [options] see PushToTalkOptions in index.d.ts
   */
  static async create(room, link, options = {}) {
    const ptt = new PushToTalk(room, link);
    try {
      await ptt.#start(options);
    } catch (err) {
      ptt.close();
      throw err;
    }
    return ptt;
  }

  constructor(room, link) {
    super();
    this.#room = room;
    this.#link = link;
  }

  async #start(options) {
    this.#ownsContext = !options.audioContext;
    this.#ctx = options.audioContext ?? new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
    if (this.#ctx.sampleRate !== 48000) throw new RangeError('pushToTalk needs a 48 kHz AudioContext (Opus runs at 48 kHz)');
    const opus = { ...options.opus, channels: 1 };  // the rest defaults in OpusEncoder
    const probe = !!options.probe;
    const [wasmModule] = await Promise.all([
      compileOpus(),
      this.#ctx.audioWorklet.addModule(new URL('./worklet.js', import.meta.url)),
    ]);
    // microphone: false listens only (no capture permission needed); press() then rejects.
    this.#ownsStream = options.microphone === undefined;
    if (options.microphone !== false) {
      try {
        this.#stream = options.microphone ?? await navigator.mediaDevices.getUserMedia({
          audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        });
      } catch (err) {
        throw new ChorusError('media-unavailable', `the microphone could not be opened: ${err?.message ?? err}`, { cause: err });
      }
    }
    this.#capture = new AudioWorkletNode(this.#ctx, 'chorus-voice-capture', {
      numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit',
      processorOptions: { wasmModule, opus, probe },
    });
    this.#playout = new AudioWorkletNode(this.#ctx, 'chorus-voice-playout', {
      numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1],
      processorOptions: { wasmModule, probe },
    });
    const ready = Promise.all([waitReady(this.#capture, 'capture'), waitReady(this.#playout, 'playout')]);
    if (this.#stream) {
      this.#source = this.#ctx.createMediaStreamSource(this.#stream);
      this.#source.connect(this.#capture);
    }
    this.#playout.connect(options.output ?? this.#ctx.destination);
    await ready;
    this.#capture.port.onmessage = ({ data }) => this.#fromCapture(data);
    this.#playout.port.onmessage = ({ data }) => this.#fromPlayout(data);

    this.#listen('floor', ({ holder, epoch }) => this.#tellFloor(holder, epoch));
    // The client core says when a held floor is lost without our release (preempted,
    // timeout, or dropped with our socket).
    this.#listen('floorrevoked', ({ reason }) => this.#revoke(reason));
    this.#listen('statechange', ({ state }) => { if (state === 'left') this.close(); });
    const { holder, epoch } = this.#room.floor;
    this.#tellFloor(holder, epoch);
    this.#link.setVoiceSink((peerId, h, packet) => {
      const copy = packet.slice();
      this.#playout.port.postMessage({ type: 'voice', peer: this.#handle(peerId), epoch: h.epoch, seq: h.seq, timestamp: h.timestamp, last: h.last, packet: copy }, [copy.buffer]);
    });
    if (this.#ctx.state === 'suspended') this.#ctx.resume().catch(() => {});
  }

  /** The AudioContext voice plays in (resume() it from a user gesture if the page must). */
  get audioContext() { return this.#ctx; }
  /** Whether a microphone is attached (false: listen only). */
  get canTalk() { return !!this.#stream; }
  /** Whether this side holds the floor and is sending. */
  get talking() { return this.#epoch !== 0 && !this.#revoked; }
  /** The peer id whose voice is playing, or null. */
  get talker() { return this.#talker; }
  /** The latest playout statistics (jitter buffer and decoder), every 0.5 s. */
  get stats() { return this.#stats; }

  /**
   * Asks for the floor and starts sending. Encoding starts at once and is held until the
   * grant, so the first syllable is not lost. Resolves `{epoch, maxTalkMs}`; rejects like
   * Room.requestFloor() ('floor-denied' with `holder`).
   */
  async press() {
    this.#live();
    if (!this.#stream) throw new ChorusError('media-unavailable', 'this push-to-talk listens only (microphone: false)');
    if (this.#pressed) return { epoch: this.#epoch };
    this.#pressed = true;
    this.#revoked = false;
    this.#held = [];
    this.#capture.port.postMessage({ type: 'start' });
    if (this.#ctx.state === 'suspended') this.#ctx.resume().catch(() => {});
    let grant;
    try {
      grant = await this.#room.requestFloor();
    } catch (err) {
      this.#pressed = false;
      this.#stopCapture();
      throw err;
    }
    if (!this.#pressed) {  // released while waiting: give it straight back
      this.#room.releaseFloor();
      return grant;
    }
    this.#epoch = grant.epoch;
    for (const p of this.#held) this.#send(p);
    this.#held = [];
    this.dispatchEvent(Object.assign(new Event('talking'), { epoch: grant.epoch }));
    return grant;
  }

  /** Stops talking: the last packet carries the end flag, then the floor is given back. */
  release() {
    if (!this.#pressed || this.#closed) return;
    this.#pressed = false;
    if (this.#epoch === 0) {  // not granted yet: press() gives it back when the answer comes
      this.#stopCapture();
      return;
    }
    // The capture worklet answers 'stop' with the final packet; #fromCapture releases after it.
    this.#capture.port.postMessage({ type: 'stop' });
  }

  /** Changes the encoder's bitrate, complexity, fec, dtx or packetLoss. */
  configure(opus) { this.#capture?.port.postMessage({ type: 'configure', opus }); }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pressed && this.#epoch) this.#room.releaseFloor();
    this.#pressed = false;
    this.#epoch = 0;
    this.#link.setVoiceSink(null);
    for (const [type, fn] of this.#roomListeners) this.#room.removeEventListener(type, fn);
    this.#roomListeners = [];
    this.#playout?.port.postMessage({ type: 'close' });
    this.#source?.disconnect();
    this.#capture?.disconnect();
    this.#playout?.disconnect();
    if (this.#ownsStream) this.#stream?.getTracks().forEach((t) => t.stop());
    if (this.#ownsContext) this.#ctx?.close().catch(() => {});
    this.dispatchEvent(new Event('closed'));
  }

  #fromCapture(m) {
    if (m.type === 'packet') {
      if (this.#revoked) return;
      if (this.#epoch === 0) {
        if (this.#pressed && this.#held.length < MAX_HELD) this.#held.push(m);
        return;
      }
      this.#send(m);
      if (m.last) {
        this.#epoch = 0;
        this.#room.releaseFloor();
        this.dispatchEvent(new Event('released'));
      }
    } else if (m.type === 'onset') {
      this.#emitOnset('capture', m.contextTime);
    } else if (m.type === 'failed') {
      this.#error('bad-audio', `the encoder failed: ${m.message}`);
    }
  }

  #send(m) {
    try {
      this.#link.sendVoice(this.#epoch, m.seq, m.timestamp, m.last, m.packet);
    } catch (err) {
      return this.#error('bad-audio', err.message);
    }
    this.dispatchEvent(Object.assign(new Event('sentpacket'), {
      epoch: this.#epoch, seq: m.seq, timestamp: m.timestamp, last: m.last, packet: m.packet,
    }));
  }

  #fromPlayout(m) {
    switch (m.type) {
      case 'accepted': {
        const peerId = this.#peers.get(m.peer);
        this.dispatchEvent(Object.assign(new Event('voicepacket'), {
          peerId, epoch: m.epoch, seq: m.seq, timestamp: m.timestamp, last: m.last, packet: m.packet,
        }));
        return;
      }
      case 'report': {
        const peerId = this.#peers.get(m.peer) ?? null;
        const message = m.verdict === 'floor-violation'
          ? `voice from ${peerId}, who does not hold the floor (epoch ${m.epoch}): not played`
          : m.decode ? `voice from ${peerId} that does not decode: concealed`
            : `unusable voice from ${peerId} (epoch ${m.epoch}, seq ${m.seq}): dropped`;
        return this.#error(m.verdict, message, peerId);
      }
      case 'state': {
        const talker = m.state === 'playing' ? this.#peers.get(m.talker) ?? null : null;
        if (talker === this.#talker) return;
        const previous = this.#talker;
        this.#talker = talker;
        if (previous) this.dispatchEvent(Object.assign(new Event('talkend'), { peerId: previous }));
        if (talker) this.dispatchEvent(Object.assign(new Event('talkstart'), { peerId: talker }));
        return;
      }
      case 'stats':
        this.#stats = m.stats;
        this.dispatchEvent(Object.assign(new Event('stats'), { stats: m.stats }));
        return;
      case 'onset': return this.#emitOnset('playout', m.contextTime);
      case 'failed': return this.#error('bad-audio', `playout failed: ${m.message}`);
    }
  }

  #tellFloor(holder, epoch) {
    const mine = holder !== null && holder === this.#room.peerId;
    // Our own voice is not played back to us.
    this.#playout.port.postMessage({ type: 'floor', holder: holder && !mine ? this.#handle(holder) : 0, epoch: epoch ?? 0 });
  }

  #revoke(reason) {
    if (!this.#pressed && this.#epoch === 0) return;
    this.#revoked = true;
    this.#pressed = false;
    this.#epoch = 0;
    this.#stopCapture();
    this.dispatchEvent(Object.assign(new Event('revoked'), { reason }));
  }

  #stopCapture() {
    this.#held = [];
    this.#revoked = true;  // what the worklet still sends is dropped
    this.#capture.port.postMessage({ type: 'stop' });
  }

  /**
   * An onset (sound after silence) at the microphone or at the output, as epoch milliseconds
   * (performance.timeOrigin based: comparable between pages of one machine). For latency
   * measurements; only with the `probe` option.
   */
  #emitOnset(side, contextTime) {
    const ts = this.#ctx.getOutputTimestamp();
    const time = performance.timeOrigin + ts.performanceTime + (contextTime - ts.contextTime) * 1000;
    this.dispatchEvent(Object.assign(new Event('onset'), { side, time, outputLatency: this.#ctx.outputLatency ?? 0 }));
  }

  #error(code, message, peerId = null) {
    this.dispatchEvent(Object.assign(new Event('error'), { code, message, peerId, error: new ChorusError(code, message, peerId ? { peerId } : {}) }));
  }

  #handle(peerId) {
    let h = this.#handles.get(peerId);
    if (!h) {
      h = this.#handles.size + 1;
      this.#handles.set(peerId, h);
      this.#peers.set(h, peerId);
    }
    return h;
  }

  #listen(type, fn) {
    this.#room.addEventListener(type, fn);
    this.#roomListeners.push([type, fn]);
  }

  #live() {
    if (this.#closed) throw new ChorusError('not-connected', 'this push-to-talk has been closed');
  }
}

