// What the app sees in each peer.stream: the remote tracks of that peer from the path the media
// core last named for each kind (its `show` action). Every remote track is kept here by where
// it came from: the mesh (the peer's RTCPeerConnection) or the media server (a Janus pc's
// transceiver, named by its mid through the core's `server-streams` event). A switch swaps
// tracks inside the same peer.stream (removeTrack/addTrack), so `video.srcObject =
// peer.stream` keeps working, and a track that newly appears there gets the usual `track`
// event. Without a media server every kind is shown from the mesh: the behaviour of a mesh room.
//
// The AudioBridge mix (mcu-audio: one track for everybody, `peer: null`) goes to `mixStream`.

const MIX = null;

export class TrackSwitch {
  /** The media server's audio mix (mcu-audio); the same object for the Room's lifetime. */
  mixStream;
  #host;
  #mesh = new Map();       // peer id -> Map<track, {streams, pc}>
  #server = new Map();     // `${pc} ${mid}` -> {pc, mid, track, streams, connection}
  #serverPeer = new Map(); // pc name -> Map<mid ('*': every mid), peer id | null (the mix)>
  #shown = new Map();      // peer id -> {audio: 'mesh'|'server', video: 'mesh'|'server'}
  #observer = null;        // FlowWatch: told about every remote track

  /**
   * @param {{peer(id: string): import('./peer.js').Peer | null,
   *          onTrack(peer: import('./peer.js').Peer, track: MediaStreamTrack, streams: MediaStream[]): void,
   *          onMix(track: MediaStreamTrack | null): void,
   *          onPath(peer: import('./peer.js').Peer, path: {audio: string, video: string}): void}} host
   */
  constructor(host) {
    this.#host = host;
    this.mixStream = new MediaStream();
  }

  /**
   * From now on `observer.added(track, pc, group)` / `observer.removed(track)` hear of every
   * remote track (those already here too); group: {path: 'mesh', peer} or {path: 'server', pc, mid}.
   * null: nobody is told any more.
   */
  observe(observer) {
    this.#observer = observer;
    if (!observer) return;
    for (const [peer, tracks] of this.#mesh) {
      for (const [track, e] of tracks) observer.added(track, e.pc, { path: 'mesh', peer });
    }
    for (const e of this.#server.values()) observer.added(e.track, e.connection, { path: 'server', pc: e.pc, mid: e.mid });
  }

  // --- mesh ---

  /** A track from the peer's mesh connection (its `track` event). */
  addMeshTrack(peerId, track, streams, pc) {
    const peer = this.#host.peer(peerId);
    if (!peer) return;
    const tracks = this.#mesh.get(peerId) ?? new Map();
    this.#mesh.set(peerId, tracks);
    const fresh = !tracks.has(track);
    tracks.set(track, { streams: [...streams], pc });
    for (const s of streams) {
      if (peer.streams.includes(s)) continue;
      peer.streams.push(s);
      // The sender removed the track (removeTrack + renegotiation).
      s.addEventListener('removetrack', (e) => this.removeMeshTrack(peerId, e.track));
    }
    if (fresh) track.addEventListener('ended', () => this.removeMeshTrack(peerId, track), { once: true });
    this.#observer?.added(track, pc, { path: 'mesh', peer: peerId });
    const added = this.#render(peerId);
    // A track that is already shown and fires `track` again (renegotiation) is announced again,
    // as a mesh room always did.
    if (!added.has(track) && peer.stream.getTracks().includes(track)) this.#host.onTrack(peer, track, [...streams]);
  }

  removeMeshTrack(peerId, track) {
    const tracks = this.#mesh.get(peerId);
    if (!tracks?.delete(track)) return;
    this.#observer?.removed(track);
    this.#render(peerId);
  }

  /** The mesh connection closed: its receivers never deliver again; a new one brings new tracks. */
  meshClosed(peerId) {
    for (const track of this.#mesh.get(peerId)?.keys() ?? []) this.#observer?.removed(track);
    this.#mesh.delete(peerId);
    const peer = this.#host.peer(peerId);
    if (peer) peer.streams = [];
    this.#render(peerId);
  }

  /** The peer left the room. */
  forgetPeer(peerId) {
    for (const track of this.#mesh.get(peerId)?.keys() ?? []) this.#observer?.removed(track);
    this.#mesh.delete(peerId);
    this.#shown.delete(peerId);
  }

  // --- media server ---

  /** A track of a media-server connection (`pc`: publisher, subscriber, audiobridge). */
  addServerTrack(pc, mid, track, streams, connection) {
    const key = `${pc} ${mid}`;
    const old = this.#server.get(key);
    if (old && old.track !== track) this.#observer?.removed(old.track);
    this.#server.set(key, { pc, mid, track, streams: [...streams], connection });
    if (old?.track !== track) track.addEventListener('ended', () => this.#dropServer((e) => e.track === track), { once: true });
    this.#observer?.added(track, connection, { path: 'server', pc, mid });
    this.#renderAll();
  }

  /** The core's `server-streams`: which peer each mid of `pc` carries (null: the mix). */
  setServerStreams(pc, streams) {
    this.#serverPeer.set(pc, new Map(streams.map((s) => [String(s.mid), s.peer ?? MIX])));
    this.#renderAll();
  }

  /** A media-server connection closed: none of its tracks plays again. */
  serverClosed(pc) {
    this.#serverPeer.delete(pc);
    this.#dropServer((e) => e.pc === pc);
  }

  // --- the core's `show` ---

  show(peerId, path, kinds) {
    const shown = { ...this.#shownOf(peerId) };
    for (const k of kinds) if (k === 'audio' || k === 'video') shown[k] = path;
    this.#shown.set(peerId, Object.freeze(shown));
    this.#render(peerId);
    const peer = this.#host.peer(peerId);
    if (peer) this.#host.onPath(peer, shown);
  }

  /** Where `peerId`'s media is shown from, per kind. */
  pathOf(peerId) {
    return this.#shownOf(peerId);
  }

  // --- internals ---

  #shownOf(peerId) {
    return this.#shown.get(peerId) ?? MESH_ONLY;
  }

  #peerOfServer(pc, mid) {
    const map = this.#serverPeer.get(pc);
    if (!map) return undefined;
    return map.has(mid) ? map.get(mid) : map.get('*');
  }

  #dropServer(which) {
    for (const [key, e] of this.#server) {
      if (!which(e)) continue;
      this.#server.delete(key);
      this.#observer?.removed(e.track);
    }
    this.#renderAll();
  }

  #renderAll() {
    for (const peerId of new Set([...this.#mesh.keys(), ...this.#shown.keys()])) this.#render(peerId);
    for (const e of this.#server.values()) {
      const peerId = this.#peerOfServer(e.pc, e.mid);
      if (peerId) this.#render(peerId);
    }
    this.#renderMix();
  }

  /** Makes peer.stream hold exactly the tracks to show; returns the tracks it added. */
  #render(peerId) {
    const added = new Set();
    const peer = this.#host.peer(peerId);
    if (!peer) return added;
    const shown = this.#shownOf(peerId);
    const want = new Map(); // track -> streams
    for (const [track, e] of this.#mesh.get(peerId) ?? []) {
      if (shown[track.kind] === 'mesh' && track.readyState === 'live') want.set(track, e.streams);
    }
    for (const e of this.#server.values()) {
      if (this.#peerOfServer(e.pc, e.mid) !== peerId) continue;
      if (shown[e.track.kind] === 'server' && e.track.readyState === 'live') want.set(e.track, e.streams);
    }
    const stream = peer.stream;
    for (const t of stream.getTracks()) if (!want.has(t)) stream.removeTrack(t);
    const present = new Set(stream.getTracks());
    for (const [track, streams] of want) {
      if (present.has(track)) continue;
      stream.addTrack(track);
      added.add(track);
      this.#host.onTrack(peer, track, [...streams]);
    }
    return added;
  }

  #renderMix() {
    const want = [...this.#server.values()]
      .filter((e) => this.#peerOfServer(e.pc, e.mid) === MIX && e.track.kind === 'audio' && e.track.readyState === 'live')
      .map((e) => e.track);
    const had = this.mixStream.getTracks();
    for (const t of had) if (!want.includes(t)) this.mixStream.removeTrack(t);
    for (const t of want) if (!had.includes(t)) this.mixStream.addTrack(t);
    const now = this.mixStream.getAudioTracks()[0] ?? null;
    if ((had[0] ?? null) !== now) this.#host.onMix(now);
  }
}

const MESH_ONLY = Object.freeze({ audio: 'mesh', video: 'mesh' });
