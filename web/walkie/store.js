// Recent voice messages in IndexedDB: one `messages` record per burst (channel, talker, start,
// duration, packet count) and its Opus packets in `packets`, keyed [messageId, seq] so a burst
// is appended to while it plays and read back in order with one key range.
const DB_NAME = 'chorus-walkie';
const KEEP = 50;  // messages kept; older ones (and their packets) are deleted

let opening = null;
function db() {
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      const d = req.result;
      d.createObjectStore('messages', { keyPath: 'id', autoIncrement: true });
      d.createObjectStore('packets', { keyPath: ['messageId', 'seq'] });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => { opening = null; reject(req.error); };
  });
  return opening;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

const result = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

const packetsOf = (id) => IDBKeyRange.bound([id, -Infinity], [id, Infinity]);

/** Creates a message record; resolves its id. */
export async function createMessage({ channel, talker, peerId, own = false, start }) {
  const tx = (await db()).transaction('messages', 'readwrite');
  const id = await result(tx.objectStore('messages').add({ channel, talker, peerId, own, start, duration: 0, packetCount: 0, done: false }));
  await done(tx);
  return id;
}

/**
 * Appends packets [{seq, timestamp, bytes}] to a message and updates its duration and count
 * in the same transaction (so the list never shows a count the packets store lacks).
 */
export async function appendPackets(id, packets, { duration, finished = false }) {
  const tx = (await db()).transaction(['messages', 'packets'], 'readwrite');
  const store = tx.objectStore('packets');
  for (const p of packets) store.put({ messageId: id, seq: p.seq, timestamp: p.timestamp, bytes: p.bytes });
  const messages = tx.objectStore('messages');
  const msg = await result(messages.get(id));
  if (msg) {
    msg.packetCount += packets.length;
    msg.duration = Math.max(msg.duration, duration);
    if (finished) msg.done = true;
    messages.put(msg);
  }
  await done(tx);
  return msg;
}

/**
 * Marks messages still open from an earlier visit as finished: their talker's last packet
 * can no longer arrive to this page.
 */
export async function finishStale() {
  const tx = (await db()).transaction('messages', 'readwrite');
  const messages = tx.objectStore('messages');
  for (const m of await result(messages.getAll())) if (!m.done) messages.put({ ...m, done: true });
  await done(tx);
}

/** The newest messages first. */
export async function listMessages(limit = KEEP) {
  const tx = (await db()).transaction('messages');
  const all = await result(tx.objectStore('messages').getAll());
  return all.reverse().slice(0, limit);
}

export async function getPackets(id) {
  const tx = (await db()).transaction('packets');
  return result(tx.objectStore('packets').getAll(packetsOf(id)));
}

/** Deletes all but the newest KEEP messages; resolves the deleted ids. */
export async function prune(keep = KEEP) {
  const tx = (await db()).transaction(['messages', 'packets'], 'readwrite');
  const keys = await result(tx.objectStore('messages').getAllKeys());
  const old = keys.slice(0, Math.max(0, keys.length - keep));
  for (const id of old) {
    tx.objectStore('messages').delete(id);
    tx.objectStore('packets').delete(packetsOf(id));
  }
  await done(tx);
  return old;
}
