// One file transfer as the app sees it, in either direction. The DataCore decides everything
// (pacing, windows, integrity); this object only mirrors its events and, on the receiving side,
// writes the data where the app wants it: into a Blob (default) or a WritableStream.
import { ChorusError } from './errors.js';
import { RoomEvent } from './events.js';

// Blob parts are merged every this many bytes, so a 1 GiB file is a few hundred parts, not
// thousands. The bytes live in the browser's blob store, not in the JS heap.
const MERGE_PARTS_BYTES = 64 * 1024 * 1024;

export class FileTransfer extends EventTarget {
  /** @type {number} the sender's transfer id (unique per peer and direction) */
  id;
  /** @type {'send'|'receive'} */
  direction;
  /** @type {string} the remote peer's id */
  peerId;
  name;
  size;
  type;
  /** bytes sent (handed to the channel) or received so far */
  bytes = 0;
  /** bytes per second over the last ~2 s, 0 until known */
  rate = 0;
  /** seconds left at the current rate, null while unknown */
  eta = null;
  /** @type {'active'|'complete'|'cancelled'|'failed'} */
  state = 'active';
  /** lowercase hex SHA-256 of the file, set on completion (both sides computed it) */
  sha256 = null;
  /** @type {Blob|null} the received file, when no sink was given (receive side, on completion) */
  blob = null;
  /** @type {Promise<FileTransfer>} resolves on completion; rejects with an AbortError on cancel, a ChorusError on failure */
  done;

  #cancel;
  #settle;
  #sink = null;        // Promise<WritableStreamDefaultWriter> when the app gave a stream
  #writeError = null;
  #parts = [];         // Blob parts while collecting
  #merged = [];
  #partBytes = 0;
  #writes = Promise.resolve();
  #started = false;    // data has arrived: too late to change the sink

  /** @private made by Room.sendFile() and the Room's `file` event */
  constructor({ id, direction, peerId, name, size, type, cancel }) {
    super();
    Object.assign(this, { id, direction, peerId, name, size, type });
    this.#cancel = cancel;
    this.done = new Promise((resolve, reject) => { this.#settle = { resolve, reject }; });
    this.done.catch(() => {}); // an app that only listens to events must not see "unhandled"
  }

  /** Stops the transfer on both sides ('cancel' event here and at the peer). */
  cancel(reason = 'cancelled') {
    if (this.state !== 'active') return;
    this.#cancel(String(reason));
  }

  /**
   * Receive side: writes the file into `stream` instead of a Blob. Call it from the `file` event
   * handler, before any data arrives. `stream` may be a promise (e.g. of
   * `(await showSaveFilePicker()).createWritable()`): data waits for it, bounded by the receive
   * window, and the sender is paced by how fast the stream accepts data.
   * @param {WritableStream<Uint8Array>|Promise<WritableStream<Uint8Array>>} stream
   */
  writeTo(stream) {
    if (this.direction !== 'receive') throw new TypeError('writeTo() is for received files');
    if (this.#started) throw new DOMException('data has already arrived', 'InvalidStateError');
    this.#sink = Promise.resolve(stream).then((s) => s.getWriter());
    this.#writes = this.#sink.then(() => {}, (err) => this.#writeFailed(err));
  }

  // --- called by the DataPlane ---

  /** @private Writes one slice; calls `written(endOffset)` once it is stored. */
  _write(bytes, offset, written) {
    this.#started = true;
    const end = offset + bytes.byteLength;
    if (this.#sink) {
      const copy = bytes.slice(); // the view points into wasm memory
      this.#writes = this.#writes.then(async () => {
        if (this.#writeError) return;
        await (await this.#sink).write(copy);
        written(end);
      }).catch((err) => this.#writeFailed(err));
      return;
    }
    this.#parts.push(new Blob([bytes]));
    this.#partBytes += bytes.byteLength;
    if (this.#partBytes >= MERGE_PARTS_BYTES) this.#mergeParts();
    written(end);
  }

  /** @private */
  _progress({ bytes, rate, eta }) {
    Object.assign(this, { bytes, rate, eta });
    this.#emit('progress', { bytes, total: this.size, rate, eta });
  }

  /** @private */
  async _complete({ sha256 }) {
    this.sha256 = sha256;
    this.bytes = this.size;
    this.eta = 0;
    if (this.direction === 'receive') {
      if (this.#sink) {
        await this.#writes;
        if (!this.#writeError) await (await this.#sink).close().catch((err) => this.#writeFailed(err));
        // Every byte arrived and matched, but the app's stream did not take them all.
        if (this.#writeError) {
          return this._failed({ code: 'transfer-failed', message: `writing the file failed: ${this.#writeError?.message ?? this.#writeError}` });
        }
      } else {
        this.#mergeParts();
        this.blob = new Blob(this.#merged, { type: this.type });
        this.#merged = [];
      }
    }
    this.state = 'complete';
    this.#emit('complete', { sha256 });
    this.#settle.resolve(this);
  }

  /** @private */
  _cancelled({ by, reason }) {
    this.#end('cancelled');
    this.#emit('cancel', { by, reason });
    this.#settle.reject(new DOMException(`transfer cancelled by the ${by} side: ${reason}`, 'AbortError'));
  }

  /** @private */
  _failed({ code, message }) {
    this.#end('failed');
    this.#emit('error', { code, message });
    this.#settle.reject(new ChorusError(code, message, { peerId: this.peerId }));
  }

  #writeFailed(err) {
    if (this.#writeError) return;
    this.#writeError = err ?? new Error('write failed');
    this.cancel(`writing the file failed: ${err?.message ?? err}`);
  }

  #end(state) {
    this.state = state;
    this.#parts = [];
    this.#merged = [];
    this.#sink?.then((w) => w.abort(), () => {}).catch(() => {});
  }

  #mergeParts() {
    if (this.#parts.length) this.#merged.push(new Blob(this.#parts));
    this.#parts = [];
    this.#partBytes = 0;
  }

  #emit(type, fields) {
    this.dispatchEvent(new RoomEvent(type, { transfer: this, ...fields }));
  }
}
