// Records every received burst (one talker, one floor epoch) into the store as it arrives:
// packets are batched and flushed every FLUSH_MS, so a closed tab loses at most that much.
import * as store from './store.js';

const FLUSH_MS = 500;
const SAMPLES_PER_MS = 48;
const FRAME = 960;        // 20 ms, the walkie's frame; used for the length of the final packet
const IDLE_MS = 1500;     // a burst with no packet for this long is over (its 'last' was lost)

export class Recorder extends EventTarget {
  #bursts = new Map();  // `${peerId}/${epoch}` -> burst

  /**
   * @param {{peerId: string, epoch: number, seq: number, timestamp: number, last: boolean,
   *          packet: Uint8Array}} ev  a PushToTalk 'voicepacket' event
   * @param {{channel: string, talker: string}} who
   */
  add(ev, who) {
    const key = `${ev.peerId}/${ev.epoch}`;
    let b = this.#bursts.get(key);
    if (!b) {
      b = { key, pending: [], firstTs: ev.timestamp, lastTs: ev.timestamp, timer: 0, idle: 0, ended: false, chain: null };
      b.chain = store.createMessage({ channel: who.channel, talker: who.talker, peerId: ev.peerId, start: Date.now() })
        .then((id) => { b.id = id; this.#changed(); });
      this.#bursts.set(key, b);
    }
    b.pending.push({ seq: ev.seq, timestamp: ev.timestamp, bytes: ev.packet });
    b.firstTs = Math.min(b.firstTs, ev.timestamp);
    b.lastTs = Math.max(b.lastTs, ev.timestamp);
    clearTimeout(b.idle);
    if (ev.last) return this.#end(b);
    b.idle = setTimeout(() => this.#end(b), IDLE_MS);
    b.timer ||= setTimeout(() => this.#flush(b), FLUSH_MS);
  }

  /** Ends every open burst (leaving a channel). */
  endAll() {
    for (const b of this.#bursts.values()) this.#end(b);
  }

  #end(b) {
    if (b.ended) return;
    b.ended = true;
    clearTimeout(b.idle);
    this.#bursts.delete(b.key);
    this.#flush(b, true).then(() => store.prune()).then(() => this.#changed(), (err) => console.warn('walkie: pruning failed', err));
  }

  #flush(b, finished = false) {
    clearTimeout(b.timer);
    b.timer = 0;
    const packets = b.pending;
    b.pending = [];
    const duration = (b.lastTs - b.firstTs + FRAME) / SAMPLES_PER_MS;
    // Chained: the record exists before its first packets are added, and appends stay in order.
    b.chain = b.chain.then(() => store.appendPackets(b.id, packets, { duration, finished }))
      .then(() => this.#changed(), (err) => console.warn('walkie: storing voice failed', err));
    return b.chain;
  }

  #changed() { this.dispatchEvent(new Event('change')); }
}
