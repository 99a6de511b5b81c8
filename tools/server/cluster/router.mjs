// Scale-out over Redis (DESIGN.md: "an adapter around the same machine"). Every room lives in
// exactly one node's ServerCore, its host (registry.mjs keeps the leases). A client may be
// connected to any node, its edge: when its `join` names a room hosted elsewhere, the edge
// hands the socket over, and from then on only moves bytes between the socket and the host:
//
//   edge -> host  {op:'open', edge, sid, address, origin}   the socket joins the host's core
//                 {op:'msg', edge, sid, data | binary+bytes} a frame from the client
//                 {op:'close', edge, sid, code}             the client's socket closed
//   host -> edge  {op:'send', sid, data}                    a frame for the client
//                 {op:'close-socket', sid, code, reason}    close the client's socket
//                 {op:'terminate', sid}                     drop it without a close frame
//
// `sid` is the socket's connection id on its edge. The host gives the socket a connection id
// of its own and sees it as any other connection: the room logic does not know it is remote.
// Frames of one socket travel through one Redis connection each way, so they stay in order.
//
// Failure: a node that dies stops refreshing its key. Edges then close the sockets they had
// handed to it with 1012; the clients reconnect, their join claims the room on a live node
// and resumes there (the core gives a resumed peer its id back when it is free). Hosts
// report the sockets of a dead edge as dropped (1006), so those peers may resume too.

const RESTART_CODE = 1012;
// Frames a socket may send while its join is being routed (a lookup in Redis): more is abuse.
const MAX_QUEUED_FRAMES = 64;
const LIVENESS_INTERVAL_MS = 1000;
// A room just claimed has no seat until its join is handled: keep its lease meanwhile.
const CLAIM_GRACE_MS = 5000;

/** Cheap test for the one frame that tells an edge its socket joined (keys are serialized
 * sorted and user text is escaped, so this cannot match inside another frame). */
const isWelcome = (data) => data.includes('"type":"welcome"');

/** The room of a `join` frame with a room name the protocol allows (1..128 characters), or
 * null for anything else: the local core answers that (the host's core parses for real). Every
 * frame is parsed (no substring pre-check: JSON escapes would slip past one). */
function joinRoom(text) {
  try {
    const m = JSON.parse(text);
    const ok = m && m.type === 'join' && typeof m.room === 'string' && m.room.length >= 1 && m.room.length <= 128;
    return ok ? m.room : null;
  } catch {
    return null;
  }
}

/**
 * @param {object} o
 * @param {import('./registry.mjs').Registry} o.registry
 * @param {object} o.host  the server's core access (server.mjs):
 *   attach(connId, socket, address, origin)  a socket joins this node's core
 *   detach(connId)                         a local socket leaves this node's core
 *   deliver(connId, text, isBinary, bytes) a frame into this node's core
 *   dropped(connId, code)                  a connection of this node's core closed
 *   newConnId()                            a connection id free here (skipping has())
 *   peerCount(room)
 *   closeConn(connId, code, reason)        close a connection of this node's core
 *   hasConn(connId)                        whether it is still open
 * @param {{info: Function, warn: Function, error: Function}} o.log
 * @param {number} [o.maxBufferedBytes]  a client that does not read is cut off past this
 * @param {number} [o.maxFrameBytes]     larger frames cross Redis as their size only (the
 *                                       host's core answers message-too-large)
 */
export function createRouter({ registry, host, log, maxBufferedBytes = 8 * 1024 * 1024, maxFrameBytes = 65536 }) {
  const self = registry.nodeId;
  /** Sockets connected here: sid -> {ws, address, origin, joined, hostNode, queue} */
  const edgeSockets = new Map();
  /** Connections hosted here for other edges: `${edge}/${sid}` -> {connId, socket} */
  const remoteConns = new Map();
  /** Rooms whose lease this node holds -> when it was claimed */
  const hostedRooms = new Map();
  /** Connections welcomed into each room hosted here (pruned as they close) */
  const roomConns = new Map();
  let draining = false;

  // ---- as an edge --------------------------------------------------------------------------

  function toHost(st, sid, msg) {
    registry.send(st.hostNode, { ...msg, edge: self, sid }).then((delivered) => {
      if (!delivered && st.hostNode !== null) hostGone(st.hostNode);
    }, (err) => {
      // A lost frame would leave a hole in the socket's signaling (an offer without its
      // candidates): the client reconnects and resumes instead.
      if (st.ws.readyState !== st.ws.OPEN) return;
      log.warn('cluster: sending to a host failed; the client reconnects', { sid, err: err.message });
      st.ws.close(RESTART_CODE, 'scale-out link failed');
    });
  }

  /**
   * Finds the room's host and, when it is another node, opens the socket there. A host that
   * does not answer the open is dead: its other sockets are told to reconnect, and the room is
   * settled again at once (its lease is taken over), so this join does not bounce.
   * @returns {Promise<string|null>} the host, or null when none could be found or opened
   */
  async function settleHost(sid, st, room) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const hostNode = await registry.hostOf(room);
      if (hostNode === self || hostNode === st.hostNode) return hostNode;
      const open = { op: 'open', edge: self, sid, address: st.address, origin: st.origin };
      if (await registry.send(hostNode, open)) {
        if (edgeSockets.get(sid) !== st) {
          // The socket closed while we waited: the host must not keep a connection for it.
          registry.send(hostNode, { op: 'close', edge: self, sid, code: 1006 }).catch(() => {});
          return null;
        }
        return hostNode;
      }
      hostGone(hostNode);
    }
    return null;
  }

  async function route(sid, st, room) {
    let hostNode = null;
    try {
      hostNode = await settleHost(sid, st, room);
    } catch (err) {
      log.error('cluster: cannot find the host of a room', { room, err: err.message });
    }
    const queue = st.queue;
    st.queue = null;
    if (st.ws.readyState !== st.ws.OPEN || edgeSockets.get(sid) !== st) {
      // Gone while we routed: a host that got our open must drop that connection again.
      if (hostNode !== null && hostNode !== self && hostNode !== st.hostNode) {
        registry.send(hostNode, { op: 'close', edge: self, sid, code: 1006 }).catch(() => {});
      }
      return;
    }
    if (hostNode === null) {
      st.ws.close(1013, 'try again later');
      return;
    }
    if (hostNode === self) {
      hostedRooms.set(room, hostedRooms.get(room) ?? Date.now());
      if (st.hostNode !== null) {
        toHost(st, sid, { op: 'close', code: 1000 });
        st.hostNode = null;
        host.attach(sid, st.ws, st.address, st.origin);
      }
      for (const [text, isBinary, bytes] of queue) host.deliver(sid, text, isBinary, bytes);
      return;
    }
    if (st.hostNode !== hostNode) {
      // Opened there by settleHost; leave the old place.
      if (st.hostNode === null) host.detach(sid);
      else toHost(st, sid, { op: 'close', code: 1000 });
      st.hostNode = hostNode;
    }
    for (const [text, isBinary, bytes] of queue) forward(sid, st, text, isBinary, bytes);
  }

  function forward(sid, st, text, isBinary, bytes) {
    if (isBinary || bytes > maxFrameBytes) {
      // Its size is all the host's core needs to refuse it; the bytes do not cross Redis.
      toHost(st, sid, { op: 'msg', binary: isBinary, bytes, data: '' });
    } else {
      toHost(st, sid, { op: 'msg', data: text });
    }
  }

  /** A host that stopped answering: its sockets reconnect and find the room a new host. */
  function hostGone(nodeId) {
    for (const [sid, st] of edgeSockets) {
      if (st.hostNode !== nodeId) continue;
      st.hostNode = null; // nothing more goes there
      log.warn('cluster: the host of this socket is gone; closing it so it reconnects', { sid, node: nodeId });
      st.ws.close(RESTART_CODE, 'room host restarting');
    }
  }

  // ---- as a host ---------------------------------------------------------------------------

  /** The host's side of an edge's socket: what server.mjs calls a socket. */
  class RemoteSocket {
    constructor(edge, sid) {
      this.edge = edge;
      this.sid = sid;
      this.OPEN = 1;
      this.readyState = 1;
      this.bufferedAmount = 0; // the edge watches its own socket's buffer
      this.remote = true;      // and its liveness: the host's liveness sweep skips it
    }
    send(data) {
      if (this.readyState === 1) this.#post({ op: 'send', sid: this.sid, data });
    }
    close(code, reason) {
      if (this.readyState !== 1) return;
      this.readyState = 2;
      this.#post({ op: 'close-socket', sid: this.sid, code, reason });
      this.#forget(code);
    }
    terminate() {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.#post({ op: 'terminate', sid: this.sid });
      this.#forget(1006);
    }
    /** Closed from here: the edge may never answer (it may be gone); do not wait for it. */
    #forget(code) {
      const key = `${this.edge}/${this.sid}`;
      const conn = remoteConns.get(key);
      if (conn?.socket !== this) return;
      remoteConns.delete(key);
      queueMicrotask(() => host.dropped(conn.connId, code));
    }
    #post(msg) {
      registry.send(this.edge, msg).catch((err) => {
        // As above, from this side: the peer is taken as dropped and may resume.
        if (this.readyState !== 1) return;
        log.warn('cluster: sending to an edge failed; dropping its connection', { err: err.message });
        this.readyState = 3;
        this.#forget(1006);
      });
    }
  }

  function onHostMessage(msg) {
    const key = `${msg.edge}/${msg.sid}`;
    switch (msg.op) {
      case 'open': {
        if (draining) {
          registry.send(msg.edge, { op: 'close-socket', sid: msg.sid, code: RESTART_CODE, reason: 'server restarting' })
            .catch(() => {});
          return;
        }
        const conn = { connId: host.newConnId(), socket: new RemoteSocket(msg.edge, msg.sid) };
        remoteConns.set(key, conn);
        host.attach(conn.connId, conn.socket, String(msg.address ?? ''), String(msg.origin ?? ''));
        return;
      }
      case 'msg': {
        const conn = remoteConns.get(key);
        if (conn === undefined) return;
        const text = String(msg.data ?? '');
        const bytes = Math.max(Number(msg.bytes) || 0, Buffer.byteLength(text));
        host.deliver(conn.connId, text, Boolean(msg.binary), bytes);
        return;
      }
      case 'close': {
        const conn = remoteConns.get(key);
        if (conn === undefined) return;
        remoteConns.delete(key);
        conn.socket.readyState = 3;
        host.dropped(conn.connId, Number(msg.code) || 1006);
        return;
      }
      default:
    }
  }

  // ---- frames for our own sockets, from their hosts ----------------------------------------

  function onEdgeMessage(msg) {
    const st = edgeSockets.get(msg.sid);
    if (!st || st.hostNode === null) return;
    switch (msg.op) {
      case 'send':
        if (st.ws.readyState !== st.ws.OPEN) return;
        if (st.ws.bufferedAmount > maxBufferedBytes) {
          log.warn('cluster: a client does not read; terminating it', { sid: msg.sid, buffered: st.ws.bufferedAmount });
          st.ws.terminate();
          return;
        }
        if (!st.joined && isWelcome(msg.data)) st.joined = true;
        st.ws.send(msg.data);
        return;
      case 'close-socket':
        st.ws.close(msg.code, msg.reason);
        return;
      case 'terminate':
        st.ws.terminate();
        return;
      default:
    }
  }

  function onMessage(msg) {
    if (msg.op === 'send' || msg.op === 'close-socket' || msg.op === 'terminate') {
      onEdgeMessage(msg);
    } else {
      onHostMessage(msg);
    }
  }

  // ---- liveness and leases -----------------------------------------------------------------

  async function tick() {
    const hosts = new Set();
    for (const st of edgeSockets.values()) if (st.hostNode !== null) hosts.add(st.hostNode);
    const edges = new Set();
    for (const key of remoteConns.keys()) edges.add(key.slice(0, key.indexOf('/')));
    const alive = await registry.aliveSet([...new Set([...hosts, ...edges])]);
    for (const id of hosts) if (!alive.has(id)) hostGone(id);
    for (const [key, conn] of remoteConns) {
      if (alive.has(key.slice(0, key.indexOf('/')))) continue;
      remoteConns.delete(key);
      conn.socket.readyState = 3;
      host.dropped(conn.connId, 1006); // its edge died: the peer may resume elsewhere
    }

    const now = Date.now();
    const keep = [];
    for (const [room, claimedAt] of hostedRooms) {
      if (host.peerCount(room) > 0 || now - claimedAt < CLAIM_GRACE_MS) {
        keep.push(room);
      } else {
        hostedRooms.delete(room);
        roomConns.delete(room);
        await registry.releaseLease(room);
      }
    }
    for (const [room, conns] of roomConns) {
      for (const connId of conns) if (!host.hasConn(connId)) conns.delete(connId);
      if (conns.size === 0 && !hostedRooms.has(room)) roomConns.delete(room);
    }
    for (const room of await registry.extendLeases(keep)) {
      // Another node took the room (we were cut off from Redis longer than the lease): two
      // hosts have it now. Ours goes: its peers reconnect and find the other.
      log.error('cluster: lost the lease of a room this node hosts; sending its peers to reconnect', { room });
      hostedRooms.delete(room);
      for (const connId of roomConns.get(room) ?? []) host.closeConn(connId, RESTART_CODE, 'room host moved');
      roomConns.delete(room);
    }
  }
  let ticking = false;
  const ticker = setInterval(() => {
    if (ticking) return;
    ticking = true;
    tick().catch((err) => log.warn('cluster: liveness check failed:', err.message))
      .finally(() => { ticking = false; });
  }, LIVENESS_INTERVAL_MS);
  ticker.unref();

  return {
    onMessage,

    /** True while `id` names one of our sockets (handed over or not): not free for reuse. */
    has(id) {
      return edgeSockets.has(id);
    },

    /** A new socket on this node (it starts in this node's core, for what comes before a join). */
    track(sid, ws, address, origin) {
      edgeSockets.set(sid, { ws, address, origin, joined: false, hostNode: null, queue: null });
    },

    /** A frame from one of our sockets. True when the router took it; false: the local core's. */
    message(sid, text, isBinary, bytes) {
      const st = edgeSockets.get(sid);
      if (!st) return false;
      // A socket closing (refused at connect, say) delivers what it had queued: drop that.
      if (st.ws.readyState !== st.ws.OPEN) return true;
      if (st.queue !== null) {
        if (st.queue.length >= MAX_QUEUED_FRAMES) {
          st.ws.close(1008, 'too many frames before the join was routed');
          return true;
        }
        st.queue.push([text, isBinary, bytes]);
        return true;
      }
      const room = !st.joined && !isBinary && bytes <= maxFrameBytes ? joinRoom(text) : null;
      if (room !== null) {
        st.queue = [[text, isBinary, bytes]];
        route(sid, st, room);
        return true;
      }
      if (st.hostNode === null) return false;
      forward(sid, st, text, isBinary, bytes);
      return true;
    },

    /**
     * A frame this process's core sends to a connection (ours or another edge's). A welcome
     * pins an edge socket; and its room must be leased here: a room the core made without
     * the lease (a join that raced the lease's release, or one that got past the routing)
     * would be a second copy of a room hosted elsewhere, so that peer is sent to reconnect.
     */
    sent(connId, data) {
      if (!isWelcome(data)) return;
      const st = edgeSockets.get(connId);
      if (st && st.hostNode === null) st.joined = true;
      let room;
      try {
        room = JSON.parse(data).room;
      } catch {
        return;
      }
      if (typeof room !== 'string') return;
      if (!roomConns.has(room)) roomConns.set(room, new Set());
      roomConns.get(room).add(connId);
      if (hostedRooms.has(room)) return;
      hostedRooms.set(room, Date.now());
      registry.hostOf(room).then((holder) => {
        if (holder === self) return;
        log.warn('cluster: a room made here is hosted elsewhere; sending its peer to reconnect', { room, holder });
        hostedRooms.delete(room);
        host.closeConn(connId, RESTART_CODE, 'room host moved');
      }, (err) => log.warn('cluster: cannot check the lease of a room made here:', err.message));
    },

    /** One of our sockets closed. True when it was handed to another node (not the local core's). */
    closed(sid, code) {
      const st = edgeSockets.get(sid);
      if (!st) return false;
      edgeSockets.delete(sid);
      if (st.hostNode === null) return false;
      toHost(st, sid, { op: 'close', code });
      return true;
    },

    /**
     * Our inbox lost messages (Redis cut our subscription off): every stream of frames that
     * crosses it may have a hole. Handed-over sockets reconnect; hosted remote connections
     * count as dropped, so their peers resume.
     */
    inboxGap() {
      for (const st of edgeSockets.values()) {
        if (st.hostNode === null) continue;
        st.hostNode = null;
        st.ws.close(RESTART_CODE, 'scale-out link lost frames');
      }
      for (const [key, conn] of remoteConns) {
        remoteConns.delete(key);
        conn.socket.readyState = 3;
        host.dropped(conn.connId, 1006);
      }
    },

    /** Every WebSocket connected to this node, handed over or not. */
    localSockets() {
      return [...edgeSockets.values()].map((st) => st.ws);
    },

    /**
     * Graceful shutdown, before our own sockets are closed: the rooms hosted here give up
     * their leases and their remote peers are told to reconnect (their edges close them with
     * 1012), so their joins find a new host.
     */
    async beginDrain() {
      draining = true;
      const rooms = [...hostedRooms.keys()];
      hostedRooms.clear();
      await Promise.all(rooms.map((room) => registry.releaseLease(room).catch(() => {})));
      for (const { socket } of remoteConns.values()) socket.close(RESTART_CODE, 'server restarting');
    },

    async close() {
      clearInterval(ticker);
      const rooms = [...hostedRooms.keys()];
      hostedRooms.clear();
      await registry.close(rooms);
    },

    /** For /metrics. */
    stats() {
      let handedOver = 0;
      for (const st of edgeSockets.values()) if (st.hostNode !== null) handedOver++;
      return { nodeId: self, hostedRooms: hostedRooms.size, remoteConnections: remoteConns.size, handedOver };
    },
  };
}
