// The two AudioWorklet processors of push-to-talk (loaded with audioWorklet.addModule()). They
// run on the audio rendering thread, so Opus never runs on the main thread; the main thread
// only moves packets between these ports and the DataChannel (js-glue/voice/push-to-talk.js).
//
//   chorus-voice-capture: microphone -> 20 ms frames -> Opus -> {packet, seq, timestamp}
//   chorus-voice-playout: voice packets + floor -> VoiceReceiver (floor check, jitter buffer,
//                         decode/FEC/PLC in the C++ core) -> speaker
//
// AudioWorkletGlobalScope cannot fetch: the main thread compiles dist/chorus-opus.wasm once and
// passes the WebAssembly.Module in processorOptions.
import createChorusOpus from '../../dist/chorus-opus.mjs';
import { moduleSettings, opusApi } from '../opus.js';
import { OnsetDetector } from './onset.js';

const instantiate = (wasmModule) => createChorusOpus(moduleSettings(wasmModule));
/** A worklet's start-up failure, for the main thread (which rethrows it as the same kind). */
const failure = (err) => ({ type: 'failed', name: err?.name, message: String(err?.message ?? err) });

/** Context time (s) of sample `index` of the current render quantum. */
const timeOf = (index) => currentTime + index / sampleRate;

class CaptureProcessor extends AudioWorkletProcessor {
  #encoder = null;
  #frame;          // Float32Array of one frame, filled from the input
  #fill = 0;
  #talking = false;
  #seq = 0;
  #timestamp = 0;
  #onsets;

  constructor({ processorOptions }) {
    super();
    const { wasmModule, opus, probe } = processorOptions;
    this.#onsets = probe ? new OnsetDetector() : null;
    instantiate(wasmModule).then((mod) => {
      const encoder = new (opusApi(mod).OpusEncoder)(opus);  // throws RangeError on bad options
      this.#frame = new Float32Array(encoder.frameSamples);
      this.#encoder = encoder;
      this.port.postMessage({ type: 'ready' });
    }).catch((err) => this.port.postMessage(failure(err)));
    this.port.onmessage = ({ data }) => {
      if (data.type === 'start') {
        this.#talking = true;
        this.#seq = 0;
        this.#timestamp = 0;
        this.#fill = 0;
      } else if (data.type === 'stop') {
        if (this.#talking) this.#flush(true);
        this.#talking = false;
      } else if (data.type === 'configure') {
        try { this.#encoder?.configure(data.opus); } catch (err) { this.port.postMessage({ type: 'failed', message: err.message }); }
      }
    };
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const input = channels[0];  // mono: the first channel (getUserMedia asks for one)
    if (this.#onsets) {
      const at = this.#onsets.feed(input);
      if (at >= 0) this.port.postMessage({ type: 'onset', contextTime: timeOf(at) });
    }
    if (!this.#talking || !this.#encoder) return true;
    for (let i = 0; i < input.length;) {
      const n = Math.min(input.length - i, this.#frame.length - this.#fill);
      this.#frame.set(input.subarray(i, i + n), this.#fill);
      this.#fill += n;
      i += n;
      if (this.#fill === this.#frame.length) this.#flush(false);
    }
    return true;
  }

  /** Encodes the frame (zero-padded when the talker stops mid-frame) and posts it. */
  #flush(last) {
    if (!this.#encoder) return;
    this.#frame.fill(0, this.#fill);
    const packet = this.#encoder.encode(this.#frame);
    this.port.postMessage({ type: 'packet', packet, seq: this.#seq, timestamp: this.#timestamp, last, contextTime: currentTime }, [packet.buffer]);
    this.#seq += 1;
    this.#timestamp += this.#frame.length;
    this.#fill = 0;
  }
}

const VERDICTS = ['accepted', 'pending', 'ignored', 'floor-violation', 'bad-audio'];
const STATES = ['idle', 'buffering', 'playing'];
const STAT_NAMES = ['received', 'duplicates', 'late', 'outOfRange', 'overflow', 'decoded', 'lost',
  'fecRecovered', 'concealed', 'underruns', 'droppedForDrift', 'targetMs', 'bufferedMs', 'jitterMs',
  'decodeErrors', 'violations'];

class PlayoutProcessor extends AudioWorkletProcessor {
  #mod = null;
  #rx = 0;
  #queue = [];     // messages that came before the module was ready
  #pcm = new Float32Array(5760);
  #pcmLength = 0;
  #pcmRead = 0;
  #state = 0;
  #talker = 0;
  #statsAt = 0;
  #stats = 0;      // wasm address of 16 doubles
  #onsets;

  constructor({ processorOptions }) {
    super();
    this.#onsets = processorOptions.probe ? new OnsetDetector() : null;
    instantiate(processorOptions.wasmModule).then((mod) => {
      this.#mod = mod;
      this.#rx = mod._chorus_voice_receiver_new();
      this.#stats = mod._chorus_opus_alloc(16 * 8);
      for (const m of this.#queue) this.#handle(m);
      this.#queue = null;
      this.port.postMessage({ type: 'ready' });
    }).catch((err) => this.port.postMessage(failure(err)));
    this.port.onmessage = ({ data }) => (this.#queue ? this.#queue.push(data) : this.#handle(data));
  }

  #handle(m) {
    const mod = this.#mod;
    const now = currentTime * 1000;
    if (m.type === 'floor') {
      mod._chorus_voice_receiver_set_floor(this.#rx, m.holder, m.epoch, now);
      this.#reportAdmitted();
    } else if (m.type === 'voice') {
      const bytes = m.packet.length;
      if (bytes > 0 && bytes <= 7680) mod.HEAPU8.set(m.packet, mod._chorus_voice_receiver_inbox(this.#rx));
      const r = mod._chorus_voice_receiver_push(this.#rx, m.peer, m.epoch, m.seq, m.timestamp, m.last ? 1 : 0, bytes, now);
      const verdict = VERDICTS[r & 15];
      if (verdict === 'accepted') {
        this.port.postMessage({ ...m, type: 'accepted' }, [m.packet.buffer]);
      } else if (r & 16) {
        this.port.postMessage({ type: 'report', verdict, peer: m.peer, epoch: m.epoch, seq: m.seq });
      }
    } else if (m.type === 'close') {
      mod._chorus_voice_receiver_free(this.#rx);
      this.#rx = 0;
    }
  }

  /** Voice that came before its grant and was accepted when the grant came. */
  #reportAdmitted() {
    const mod = this.#mod;
    const header = mod._chorus_opus_alloc(5 * 4);
    try {
      for (;;) {
        const n = mod._chorus_voice_receiver_next_admitted(this.#rx, header);
        if (n < 0) return;
        const [peer, epoch, seq, timestamp, last] = mod.HEAPU32.subarray(header >> 2, (header >> 2) + 5);
        const inbox = mod._chorus_voice_receiver_inbox(this.#rx);
        const packet = mod.HEAPU8.slice(inbox, inbox + n);
        this.port.postMessage({ type: 'accepted', peer, epoch, seq, timestamp, last: last === 1, packet }, [packet.buffer]);
      }
    } finally {
      mod._chorus_opus_dealloc(header);
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    if (!this.#rx) {
      out.fill(0);
      return this.#rx !== 0 || this.#queue !== null;
    }
    const mod = this.#mod;
    for (let i = 0; i < out.length;) {
      if (this.#pcmRead === this.#pcmLength) {
        // The frame is due now: its playout deadline is this sample's time.
        const n = mod._chorus_voice_receiver_render(this.#rx, timeOf(i) * 1000);
        const at = mod._chorus_voice_receiver_pcm(this.#rx) >> 2;
        this.#pcm.set(mod.HEAPF32.subarray(at, at + n));
        this.#pcmLength = n;
        this.#pcmRead = 0;
        if (mod._chorus_voice_receiver_take_decode_report(this.#rx)) {
          // A packet that passed the checks but did not decode (concealed in its place).
          this.port.postMessage({ type: 'report', verdict: 'bad-audio', peer: mod._chorus_voice_receiver_talker(this.#rx), epoch: 0, seq: -1, decode: true });
        }
      }
      const n = Math.min(out.length - i, this.#pcmLength - this.#pcmRead);
      out.set(this.#pcm.subarray(this.#pcmRead, this.#pcmRead + n), i);
      this.#pcmRead += n;
      i += n;
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    if (this.#onsets) {
      const at = this.#onsets.feed(out);
      if (at >= 0) this.port.postMessage({ type: 'onset', contextTime: timeOf(at) });
    }
    const state = mod._chorus_voice_receiver_state(this.#rx);
    const talker = mod._chorus_voice_receiver_talker(this.#rx);
    if (state !== this.#state || talker !== this.#talker) {
      this.#state = state;
      this.#talker = talker;
      this.port.postMessage({ type: 'state', state: STATES[state], talker });
    }
    if (currentTime - this.#statsAt >= 0.5) {
      this.#statsAt = currentTime;
      mod._chorus_voice_receiver_stats(this.#rx, this.#stats);
      const v = mod.HEAPF64.subarray(this.#stats >> 3, (this.#stats >> 3) + 16);
      const stats = {};
      STAT_NAMES.forEach((name, i) => { stats[name] = v[i]; });
      this.port.postMessage({ type: 'stats', stats });

    }
    return true;
  }
}

registerProcessor('chorus-voice-capture', CaptureProcessor);
registerProcessor('chorus-voice-playout', PlayoutProcessor);
