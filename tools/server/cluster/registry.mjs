// The Redis side of scale-out: which node is alive, which node hosts which room, and a
// mailbox per node. Nothing here knows the signaling protocol (router.mjs does the sockets).
//
// Keys (all under `prefix`, default "chorus:"):
//   node:<id>   "1" with a TTL of nodeTtlMs, refreshed every heartbeatMs: the node is alive
//   room:<name> the id of the node hosting the room, with a TTL of leaseTtlMs, refreshed by
//               that node while it has the room; taken over when its node key is gone
// Channels:
//   to:<id>     JSON messages for one node (router.mjs's protocol). PUBLISH answers how many
//               subscribers got a message: 0 means the node is gone, sooner than its key says.

import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';

const DEFAULT_HEARTBEAT_MS = 1000;
// A node whose event loop lags (overloaded, not dead) must not be taken for dead: its key lives
// 6 heartbeats. A real death is noticed sooner, by a PUBLISH that nobody receives.
const DEFAULT_NODE_TTL_MS = 6000;
const DEFAULT_LEASE_TTL_MS = 10000;

// Compare-and-act on a room lease: only the holder may extend or drop it, and a dead holder's
// lease may be dropped only while it is still that holder's (another node may have taken it).
// A lease that expired meanwhile (Redis was slow, or restarted empty) is taken again.
const LUA_EXTEND = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const LUA_DROP = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * Connects to Redis and starts this node's heartbeat.
 *
 * @param {object} options
 * @param {string} options.url          redis://host:port/db or a unix socket path (redis+unix:
 *                                      URLs as ioredis takes them)
 * @param {string} [options.nodeId]     default: 12 random hex characters
 * @param {string} [options.prefix='chorus:']
 * @param {(msg: object) => void} options.onMessage  a message for this node
 * @param {() => void} [options.onInboxGap]  our inbox was cut off and is back: messages were lost
 * @param {{info: Function, warn: Function, error: Function}} options.log
 * @returns {Promise<Registry>}
 */
export async function startRegistry({
  url, nodeId = randomBytes(6).toString('hex'), prefix = 'chorus:', onMessage, onInboxGap = () => {}, log,
  heartbeatMs = DEFAULT_HEARTBEAT_MS, nodeTtlMs = DEFAULT_NODE_TTL_MS,
  leaseTtlMs = DEFAULT_LEASE_TTL_MS,
}) {
  const options = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true };
  const redis = new Redis(url, options);
  const sub = new Redis(url, options);
  for (const [name, conn] of [['commands', redis], ['subscriber', sub]]) {
    conn.on('error', (err) => log.warn(`redis ${name} connection:`, err.message));
  }
  await redis.connect();
  await sub.connect();
  redis.defineCommand('extendLease', { numberOfKeys: 1, lua: LUA_EXTEND });
  redis.defineCommand('dropLease', { numberOfKeys: 1, lua: LUA_DROP });

  const inbox = `${prefix}to:${nodeId}`;
  sub.on('messageBuffer', (channel, payload) => {
    if (channel.toString() !== inbox) return;
    let msg;
    try {
      msg = JSON.parse(payload.toString('utf8'));
    } catch {
      log.error('cluster: unparsable message in our inbox');
      return;
    }
    try {
      onMessage(msg);
    } catch (err) {
      log.error('cluster: handling a message failed:', err);
    }
  });
  await sub.subscribe(inbox);
  // ioredis resubscribes by itself after a reconnect, but what was published meanwhile is lost
  // (Redis also cuts off a subscriber that falls behind: client-output-buffer-limit pubsub).
  let subscribed = true;
  sub.on('close', () => { subscribed = false; });
  sub.on('ready', () => {
    if (subscribed) return;
    subscribed = true;
    log.warn('cluster: our inbox was cut off; frames sent to us meanwhile are lost');
    onInboxGap();
  });

  /** Nodes a PUBLISH found without a listener: dead, even while their key lives on. */
  const gone = new Map(); // id -> until (ms)
  const isGone = (id) => {
    const until = gone.get(id);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    gone.delete(id);
    return false;
  };
  const nodeKey = (id) => `${prefix}node:${id}`;
  const roomKey = (room) => `${prefix}room:${room}`;
  const beat = () => redis.set(nodeKey(nodeId), '1', 'PX', nodeTtlMs);
  await beat();
  const heartbeat = setInterval(() => {
    beat().catch((err) => log.warn('cluster: heartbeat failed:', err.message));
  }, heartbeatMs);
  heartbeat.unref();

  /** @typedef {ReturnType<typeof makeRegistry>} Registry */
  function makeRegistry() {
    return {
      nodeId,

      /**
       * The node that hosts `room`: this node when it claims it now. A lease held by a node
       * that is no longer alive is dropped and claimed again.
       * @returns {Promise<string>}
       */
      async hostOf(room) {
        for (let attempt = 0; attempt < 3; attempt++) {
          const key = roomKey(room);
          if (await redis.set(key, nodeId, 'PX', leaseTtlMs, 'NX')) return nodeId;
          const holder = await redis.get(key);
          if (holder === null) continue; // dropped between the two calls
          if (holder === nodeId || await this.isAlive(holder)) return holder;
          log.warn('cluster: taking over a room of a node that is gone', { room, node: holder });
          await redis.dropLease(key, holder);
        }
        throw new Error(`could not settle the host of room ${room}`);
      },

      /** Keeps this node's leases; answers the rooms whose lease another node holds now. */
      async extendLeases(rooms) {
        if (rooms.length === 0) return [];
        const pipe = redis.pipeline();
        for (const room of rooms) pipe.extendLease(roomKey(room), nodeId, leaseTtlMs);
        const results = await pipe.exec();
        // Only a lease another node holds is lost; an error (Redis busy) is tried next time.
        return rooms.filter((_, i) => results[i][0] === null && results[i][1] === 0);
      },

      async releaseLease(room) {
        await redis.dropLease(roomKey(room), nodeId);
      },

      async isAlive(id) {
        return !isGone(id) && (await redis.exists(nodeKey(id))) === 1;
      },

      /** Which of `ids` are alive, in one round trip. */
      async aliveSet(ids) {
        if (ids.length === 0) return new Set();
        const found = await redis.mget(ids.map(nodeKey));
        return new Set(ids.filter((id, i) => found[i] !== null && !isGone(id)));
      },

      /**
       * Sends a message to a node's inbox; false when no node listens there. Such a node is
       * taken for dead until its key has surely expired: its rooms can be taken over now, not
       * a node TTL later. (A live node whose subscriber is reconnecting to Redis just then
       * loses its rooms to another: its lease refresh reports that.)
       */
      async send(id, msg) {
        const listeners = await redis.publish(`${prefix}to:${id}`, JSON.stringify(msg));
        if (listeners === 0) gone.set(id, Date.now() + nodeTtlMs);
        return listeners > 0;
      },

      /** Leaves the cluster: drops the given leases and this node's key, then disconnects. */
      async close(rooms = []) {
        clearInterval(heartbeat);
        try {
          await Promise.all(rooms.map((room) => redis.dropLease(roomKey(room), nodeId)));
          await redis.del(nodeKey(nodeId));
        } catch (err) {
          log.warn('cluster: could not clean up on leaving:', err.message);
        }
        sub.disconnect();
        redis.disconnect();
      },
    };
  }
  return makeRegistry();
}
