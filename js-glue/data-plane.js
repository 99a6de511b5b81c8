// Runs one DataCore (the DataChannel protocol, wasm/datachannel/) for a Room: feeds it what the
// RTCDataChannels report (open, close, message, bufferedamountlow) and carries out what it
// asks (send this frame, read this slice of a file, set a low-water mark). Priorities, chunking,
// pacing, flow control and integrity are the core's decisions. Contract: docs/architecture.md,
// "DataCore"; wire format: docs/protocol.md, "DataChannel frames".
import { CoreLoop, now } from './core-loop.js';
import { ChorusError } from './errors.js';
import { FileTransfer } from './file-transfer.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const KIND = { text: 1, json: 2, binary: 3 };

/**
 * The negotiated channels of every chorus peer connection (both sides create them with the
 * same ids, so no in-band DataChannel establishment is needed).
 */
export const CHANNELS = Object.freeze([
  { label: 'chorus', init: { negotiated: true, id: 0 } },
  { label: 'chorus-unreliable', init: { negotiated: true, id: 1, ordered: false, maxRetransmits: 0 } },
  { label: 'chorus-bulk', init: { negotiated: true, id: 2 } },
]);

export class DataPlane {
  #loop;
  #host;
  #links = new Map();     // peer id -> { pc, channels: RTCDataChannel[] }
  #transfers = new Map(); // `${peer}/${direction}/${id}` -> FileTransfer
  #sources = new Map();   // `${peer}/send/${id}` -> the Blob being sent

  /**
   * @param {any} mod the loaded wasm module
   * @param {object} config DataConfig options (docs/architecture.md)
   * @param {{onMessage(peerId: string, data: unknown, reliable: boolean): void,
   *          onFile(peerId: string, transfer: FileTransfer): void,
   *          onVoice?(peerId: string, header: {epoch: number, seq: number, timestamp: number, last: boolean}, packet: Uint8Array): void,
   *          onError(ev: {code: string, message: string, peer?: string}): void}} host
   */
  constructor(mod, config, host) {
    this.#loop = new CoreLoop(new mod.DataCore(JSON.stringify(config ?? {})), {
      poll: (core) => core.poll(now()),
      execute: (out) => {
        try {
          this.#execute(JSON.parse(out));
        } catch (err) {
          console.error('chorus: executing data output failed', out, err);
        }
      },
      release: () => this.#release(),
    });
    this.#host = host;
  }

  /** The DataCore; null once disposed. */
  get #core() { return this.#loop.core; }

  /** Creates the chorus channels on a new peer connection and starts reporting on them. */
  attach(peerId, pc) {
    this.detach(peerId);
    const channels = CHANNELS.map(({ label, init }, index) => {
      const ch = pc.createDataChannel(label, init);
      ch.binaryType = 'arraybuffer';
      ch.onopen = () => {
        // The spec's "no limit" is Infinity, which JSON cannot carry: the core caps frames anyway.
        const max = pc.sctp?.maxMessageSize ?? 0;
        this.#input({ type: 'channel-open', peer: peerId, channel: index, maxMessageSize: Number.isFinite(max) ? max : 2 ** 30 });
      };
      ch.onclose = () => this.#input({ type: 'channel-closed', peer: peerId, channel: index });
      ch.onbufferedamountlow = () => {
        if (!this.#core) return;
        this.#core.setBufferedAmount(peerId, index, ch.bufferedAmount);
        this.#loop.drain();
      };
      ch.onmessage = (e) => this.#receive(peerId, index, e.data);
      return ch;
    });
    this.#links.set(peerId, { pc, channels });
    return channels;
  }

  /** The peer connection is being closed or replaced: its channels count as closed. */
  detach(peerId) {
    const link = this.#links.get(peerId);
    if (!link) return;
    this.#links.delete(peerId);
    link.channels.forEach((ch, index) => {
      ch.onopen = ch.onclose = ch.onbufferedamountlow = ch.onmessage = null;
      this.#input({ type: 'channel-closed', peer: peerId, channel: index });
    });
  }

  /** The peer left the room: its transfers end (cancelled by `remote`), queued messages are dropped. */
  removePeer(peerId) {
    this.#input({ type: 'peer-removed', peer: peerId });
    this.detach(peerId);
  }

  /**
   * Queues `data` for each peer, or for none: the core's verdict for every peer is asked first
   * and the first refusal is thrown. Strings go as text, ArrayBuffers and views as binary, any
   * other JSON value as json.
   */
  send(peerIds, data, reliable) {
    let kind, bytes;
    const tag = Object.prototype.toString.call(data);
    if (typeof data === 'string') [kind, bytes] = [KIND.text, encoder.encode(data)];
    else if (tag === '[object ArrayBuffer]') [kind, bytes] = [KIND.binary, new Uint8Array(data)];
    else if (ArrayBuffer.isView(data)) [kind, bytes] = [KIND.binary, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
    else if (tag === '[object Blob]' || tag === '[object File]') throw new TypeError('send a Blob or File with sendFile()');
    else {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError('data must be a string, binary data or a JSON value');
      [kind, bytes] = [KIND.json, encoder.encode(text)];
    }
    this.#requireCore();
    for (const peerId of peerIds) {
      const verdict = this.#core.canSend(peerId, bytes.byteLength, reliable);
      if (verdict) {
        const { code, message } = JSON.parse(verdict);
        throw new ChorusError(code, message, { peerId });
      }
    }
    for (const peerId of peerIds) {
      this.#core.inbox(bytes.byteLength).set(bytes);
      this.#core.send(peerId, kind, reliable);
    }
    this.#loop.drain();
  }

  /**
   * One push-to-talk packet to every peer whose unreliable channel is open, first in line
   * there (docs/protocol.md, "Voice frames"). Returns how many peers it was queued for.
   */
  sendVoice(epoch, seq, timestamp, last, packet) {
    this.#requireCore();
    this.#core.inbox(packet.byteLength).set(packet);
    const queued = this.#core.sendVoice(epoch, seq, timestamp, last);
    if (queued < 0) throw new RangeError('voice: a packet is 1..7680 bytes under a floor epoch > 0');
    this.#loop.drain();
    return queued;
  }

  /** Starts sending `blob` to one peer; see Room.sendFile(). */
  sendFile(peerId, blob, { name, type }) {
    this.#requireCore();
    const result = JSON.parse(this.#core.sendFile(peerId, blob.size, name, type, now()));
    if (result.code) throw new ChorusError(result.code, result.message, { peerId });
    const transfer = new FileTransfer({
      id: result.transfer, direction: 'send', peerId, name, size: blob.size, type,
      cancel: (reason) => this.#input({ type: 'cancel-transfer', peer: peerId, transfer: result.transfer, direction: 'send', reason }),
    });
    this.#transfers.set(`${peerId}/send/${result.transfer}`, transfer);
    this.#sources.set(`${peerId}/send/${result.transfer}`, blob);
    this.#loop.drain();
    return transfer;
  }

  /** Frees the core once the current drain is over; transfers still active fail with `not-connected`. */
  dispose() {
    this.#loop.dispose();
  }

  // --- the loop ---

  #requireCore() {
    if (!this.#core) throw new ChorusError('not-connected', 'the room has been left');
  }

  #input(input) {
    this.#loop.input(input);
  }

  #receive(peerId, channel, data) {
    if (!this.#core) return;
    if (typeof data === 'string') {
      // Every chorus frame is binary: a text message is not ours.
      this.#host.onError({ code: 'bad-frame', message: 'dropped a text message on a chorus channel', peer: peerId });
      return;
    }
    this.#core.inbox(data.byteLength).set(new Uint8Array(data));
    this.#core.receive(peerId, channel, now());
    this.#loop.drain();
  }

  #release() {
    for (const peerId of [...this.#links.keys()]) this.removePeer(peerId);
    for (const t of this.#transfers.values()) t._failed({ code: 'not-connected', message: 'the room was left' });
    this.#transfers.clear();
    this.#sources.clear();
  }

  #execute(o) {
    if (o.action === 'send') {
      const ch = this.#links.get(o.peer)?.channels[o.channel];
      try {
        if (ch?.readyState !== 'open') throw new DOMException(`channel ${o.channel} is ${ch?.readyState ?? 'gone'}`, 'InvalidStateError');
        ch.send(this.#core.payload());
      } catch (err) {
        // A frame the core counts as sent is lost: the channel cannot be trusted any more.
        // The core hears it closed (transfers fail, partial messages start over on the next
        // connection) and so does the peer.
        console.warn('chorus: DataChannel send failed; closing the channel', err);
        ch?.close();
        return this.#input({ type: 'channel-closed', peer: o.peer, channel: o.channel });
      }
      this.#core.setBufferedAmount(o.peer, o.channel, ch.bufferedAmount);
      return;
    }
    if (o.action === 'configure-channel') {
      const ch = this.#links.get(o.peer)?.channels[o.channel];
      if (ch) ch.bufferedAmountLowThreshold = o.bufferedAmountLowThreshold;
      return;
    }
    if (o.action === 'read-file') return this.#readFile(o);
    const key = `${o.peer}/${o.direction}/${o.transfer}`;
    switch (o.event) {
      case 'message': return this.#host.onMessage(o.peer, this.#decode(o.kind), o.reliable);
      // The payload view is valid only now: the host copies what it keeps.
      case 'voice': return this.#host.onVoice?.(o.peer, o, this.#core.payload());
      case 'transfer-incoming': {
        const transfer = new FileTransfer({
          id: o.transfer, direction: 'receive', peerId: o.peer, name: o.name, size: o.size, type: o.type,
          cancel: (reason) => this.#input({ type: 'cancel-transfer', peer: o.peer, transfer: o.transfer, direction: 'receive', reason }),
        });
        this.#transfers.set(key, transfer);
        return this.#host.onFile(o.peer, transfer);
      }
      case 'file-data':
        return this.#transfers.get(key)?._write(this.#core.payload(), o.offset, (bytes) => {
          this.#input({ type: 'file-written', peer: o.peer, transfer: o.transfer, bytes });
        });
      case 'transfer-progress': return this.#transfers.get(key)?._progress(o);
      case 'transfer-complete': return this.#end(key, (t) => t._complete(o));
      case 'transfer-cancelled': return this.#end(key, (t) => t._cancelled(o));
      case 'transfer-failed': return this.#end(key, (t) => t._failed(o));
      case 'error': return this.#host.onError(o);
      default: console.warn('chorus: unknown data output', o);
    }
  }

  #decode(kind) {
    const bytes = this.#core.payload();
    if (kind === 'binary') return bytes.slice().buffer; // a copy: the view is wasm memory
    const text = decoder.decode(bytes);
    return kind === 'json' ? JSON.parse(text) : text; // the core checked the JSON
  }

  #end(key, fn) {
    const t = this.#transfers.get(key);
    if (!t) return;
    this.#transfers.delete(key);
    this.#sources.delete(key);
    fn(t);
  }

  #readFile({ peer, transfer, offset, length }) {
    const key = `${peer}/send/${transfer}`;
    const blob = this.#sources.get(key);
    if (!blob) return;
    blob.slice(offset, offset + length).arrayBuffer().then((buf) => {
      if (!this.#core || !this.#sources.has(key)) return; // ended while reading
      this.#core.inbox(buf.byteLength).set(new Uint8Array(buf));
      this.#core.fileData(peer, transfer, offset, now());
      this.#loop.drain();
    }, (err) => this.#input({ type: 'file-read-failed', peer, transfer, message: String(err?.message ?? err) }));
  }
}
