// Per-peer send queue over the default DataChannel. Messages sent before the channel opens (or
// while its buffer is over the high-water mark) wait here, bounded, and go out in order when the
// channel opens or drains. Chromium's send() throws once ~16 MiB are buffered, so we stop at 8.

export const MAX_QUEUED_MESSAGES = 1024;
export const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
const HIGH_WATER_BYTES = 8 * 1024 * 1024;
const LOW_WATER_BYTES = 1024 * 1024;
const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024; // Chromium's sctp.maxMessageSize

export class Outbox {
  #items = [];
  #bytes = 0;
  #channel = null;
  #maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;

  /** Uses `channel` from now on; messages queued for an earlier channel carry over. */
  attach(channel) {
    this.#channel = channel;
    channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    channel.addEventListener('bufferedamountlow', () => this.flush());
  }

  /** The connection's real limit (pc.sctp.maxMessageSize), known once the channel is open. */
  setMaxMessageBytes(n) {
    if (n > 0) this.#maxMessageBytes = n;
  }

  detach(channel) {
    if (this.#channel === channel) this.#channel = null;
  }

  get queued() { return this.#items.length; }

  /** Whether `size` more bytes can be sent or queued now. */
  accepts(size) {
    if (this.#canSendNow(size)) return true;
    return this.#items.length < MAX_QUEUED_MESSAGES && this.#bytes + size <= MAX_QUEUED_BYTES;
  }

  tooLarge(size) { return size > this.#maxMessageBytes; }

  /** Sends at once when possible, else queues. Call accepts() first. */
  push(data, size) {
    if (this.#canSendNow(size)) {
      this.#channel.send(data);
      return;
    }
    // The caller may reuse its buffer after send() returns: keep a private copy.
    this.#items.push({ data: copyIfView(data), size });
    this.#bytes += size;
  }

  flush() {
    const ch = this.#channel;
    while (this.#items.length && ch && ch.readyState === 'open'
        && ch.bufferedAmount + this.#items[0].size <= HIGH_WATER_BYTES) {
      const { data, size } = this.#items.shift();
      this.#bytes -= size;
      ch.send(data);
    }
  }

  clear() {
    this.#items = [];
    this.#bytes = 0;
  }

  #canSendNow(size) {
    const ch = this.#channel;
    return !!ch && ch.readyState === 'open' && this.#items.length === 0
      && ch.bufferedAmount + size <= HIGH_WATER_BYTES;
  }
}

/** Bytes on the wire: UTF-8 length for text, byteLength for binary. */
export function byteSize(data) {
  if (typeof data === 'string') {
    let n = 0;
    for (let i = 0; i < data.length; i++) {
      const c = data.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++; } // surrogate pair
      else n += 3;
    }
    return n;
  }
  return data.byteLength;
}

function copyIfView(data) {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) {
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  }
  return data.slice(0); // ArrayBuffer
}
