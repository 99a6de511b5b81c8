// The public API: one Room per joined room. It owns the local media and the Peer objects the app
// reads, and turns the core's events into DOM-style events. Every session decision (offers, ICE
// restarts, reconnects) is made by the C++ core and carried out by the Executor.
import { Bitrate, ViewSizes, layerLetter } from './bitrate.js';
import { ChorusError } from './errors.js';
import { RoomEvent } from './events.js';
import { DataPlane } from './data-plane.js';
import { Executor } from './executor.js';
import { loadCore, loadMediaCore } from './core.js';
import { getTrack, getUserMedia, normaliseMedia } from './media.js';
import { MediaServer, SERVER_MODES } from './media-server.js';
import { Peer } from './peer.js';
import { UplinkSampler } from './uplink-stats.js';
import { TrackSwitch } from './track-switch.js';

export class Room extends EventTarget {
  /** @type {Map<string, Peer>} everyone else in the room, by peer id */
  peers = new Map();
  /** @type {MediaStream} what this client sends; the same object for the Room's lifetime */
  localStream;
  /** @type {string|null} this client's id, assigned by the server */
  peerId = null;

  #state = 'new';
  #roomName;
  #displayName;
  #token;
  #executor;
  #data;
  #voiceSink = null;  // the PushToTalk receiving voice frames, if any
  #pushToTalk = null; // Promise<PushToTalk> while one is open
  #constraints;           // {audio, video} used when a device is turned on later
  #ownedTracks = new Set(); // tracks we acquired (and so stop on leave)
  #pendingTrack = {};     // kind -> Promise, so two quick toggles acquire one device
  #wanted = { audio: true, video: true };
  #joinWaiter = null;
  #mediaPending = false;  // getUserMedia from join() still running
  #role;
  #identity = null;
  #servers = 1;
  #policy;
  #floor = Object.freeze({ holder: null, epoch: 0, reason: null });
  #topology = Object.freeze({ mode: 'p2p', epoch: 0, reason: '', server: null });
  #floorRequests = new Map(); // request id -> {resolve, reject}: requestFloor() promises
  #nextFloorRequest = 1;
  #tracks;               // TrackSwitch: which remote tracks each peer.stream shows
  #media = null;         // MediaServer, once the topology first named a media server
  #mediaState = Object.freeze({ state: 'closed', mode: 'p2p' });
  #iceServers = [];      // from the latest welcome, for the media server's connections
  #iceTransportPolicy;
  #layers = new Map();   // peer id -> the video quality the app asked for
  #onPageHide = () => this.leave();
  #uplink = null; // UplinkSampler, from the first welcome on
  #bitrate;       // Bitrate: the AbrCore, started once there is a peer and media
  #receivesMedia = false;  // a remote track arrived
  #views;         // ViewSizes: the app's video elements (attachView)
  #stats = null;  // the AbrCore's latest `stats`

  /**
   * Acquires local media, connects to the signaling server and enters the room.
   * Resolves once the server has welcomed us; rejects with a ChorusError
   * ('media-unavailable', 'signaling-unreachable', 'room-full', 'floor-denied' for a
   * dispatcher role the server does not allow ...) otherwise.
   */
  static async join({
    url, room, name = '', media, token, data, role = 'talker', iceTransportPolicy = 'all', policy,
    adaptiveBitrate = true,
  } = {}) {
    const wsUrls = (Array.isArray(url) ? url : [url]).map(signalingUrl);
    if (wsUrls.length === 0) throw new TypeError('url must not be an empty list');
    if (typeof room !== 'string' || room.length === 0) throw new TypeError('room must be a non-empty string');
    if (typeof name !== 'string') throw new TypeError('name must be a string');
    if (!ROLES.includes(role)) throw new TypeError(`role must be one of ${ROLES.join(', ')}`);
    if (policy !== undefined && !POLICIES.includes(policy)) {
      throw new TypeError(`policy must be one of ${POLICIES.join(', ')}`);
    }
    if (iceTransportPolicy !== 'all' && iceTransportPolicy !== 'relay') {
      throw new TypeError("iceTransportPolicy must be 'all' or 'relay'");
    }
    const wanted = normaliseMedia(media);
    const given = typeof MediaStream !== 'undefined' && wanted instanceof MediaStream;

    // getUserMedia runs side by side with loading the wasm, opening the socket and joining:
    // the core holds offers and answers back until the tracks are there (`media: 'pending'`).
    const acquiring = given ? null : getUserMedia(wanted);
    acquiring?.catch(() => {}); // handled in #start; not "unhandled" while the wasm loads
    // The socket's TCP and HTTP upgrade also overlap the wasm load; the core still decides
    // when the socket is used (its first `open-socket` adopts this one).
    let socket = null;
    try {
      socket = new WebSocket(wsUrls[0]);
    } catch {
      // Refused at once (e.g. ws:// from an https page): the executor tries again when the
      // core asks, and the core reports the failure as signaling-unreachable.
    }
    let mod;
    try {
      mod = await loadCore();
    } catch (err) {
      socket?.close();
      acquiring?.then((s) => s.getTracks().forEach((t) => t.stop()), () => {});
      throw err;
    }
    const r = new Room(mod, {
      urls: wsUrls, socket, room, policy, name, token, data, role, iceTransportPolicy, adaptiveBitrate,
      stream: given ? wanted : new MediaStream(),
      constraints: given ? { audio: true, video: true } : wanted,
    });
    return r.#start(acquiring);
  }

  /** @private use Room.join() */
  constructor(mod, opts) {
    super();
    if (!mod?.ClientCore) throw new TypeError('use Room.join()');
    this.#roomName = opts.room;
    this.#displayName = opts.name;
    this.#token = opts.token;
    this.#role = opts.role ?? 'talker';
    this.localStream = opts.stream;
    this.#constraints = opts.constraints;
    const seed = crypto.getRandomValues(new Uint32Array(1))[0];
    const core = new mod.ClientCore(JSON.stringify({ seed }));
    this.#data = new DataPlane(mod, opts.data, {
      onMessage: (peerId, data, reliable) => this.#onMessage(peerId, data, reliable),
      onFile: (peerId, transfer) => this.#onFile(peerId, transfer),
      onVoice: (peerId, header, packet) => this.#voiceSink?.(peerId, header, packet),
      onError: (ev) => this.#onError({ ...ev, fatal: false }),
    });
    this.#servers = opts.urls.length;
    this.#policy = opts.policy;
    this.#iceTransportPolicy = opts.iceTransportPolicy ?? 'all';
    this.#tracks = new TrackSwitch({
      peer: (id) => this.peers.get(id) ?? null,
      onTrack: (peer, track, streams) => {
        this.#receivesMedia = true;
        this.#maybeStartBitrate();
        this.#emit('track', { peer, track, streams });
      },
      onMix: (track) => this.#emit('mix', { stream: this.#tracks.mixStream, track }),
      onPath: (peer, path) => {
        peer.mediaPath = path;
        this.#emit('mediapath', { peer, audio: path.audio, video: path.video });
      },
    });
    this.#bitrate = new Bitrate({
      connections: () => this.#mediaConnections(),
      peerConnection: (id) => (JANUS_PATHS[id] ? this.#media?.peerConnection(id) : this.#executor.peerConnection(id)) ?? null,
      setLayer: (peer, layer) => this.#media?.input({ type: 'set-layer', peer, layer }),
      sendLayers: (to, layer) => { if (!this.#executor.disposed) this.#executor.input({ type: 'send-layers', to, layer }); },
      onQuality: (ev) => this.#onQuality(ev),
      onStats: (stats) => {
        this.#stats = Object.freeze(stats);
        this.#emit('stats', { stats: this.#stats });
      },
      onWarning: ({ code, message }) => this.#emit('warning', { code, message }),
    }, { control: opts.adaptiveBitrate !== false });
    this.#views = new ViewSizes((input) => this.#bitrate.input(input));
    this.#executor = new Executor(core, opts.urls, opts.socket, {
      localStream: this.localStream,
      iceTransportPolicy: this.#iceTransportPolicy,
      data: this.#data,
      onEvent: (ev) => this.#onCoreEvent(ev),
      onTrack: (peerId, ev, pc) => this.#tracks.addMeshTrack(peerId, ev.track, ev.streams, pc),
      onPeerConnectionClosed: (peerId) => this.#tracks.meshClosed(peerId),
    });
  }

  /** 'new' | 'connecting' | 'joined' | 'reconnecting' | 'left' */
  get state() { return this.#state; }
  /** The room's name as given to join(). */
  get roomName() { return this.#roomName; }
  /** This client's display name as given to join(). */
  get displayName() { return this.#displayName; }
  /** This client's role: as given to join(), then as the server decided it (an access token's
   * role wins). */
  get role() { return this.#role; }
  /** The identity the server verified from the access token, or null (no token). */
  get identity() { return this.#identity; }
  /**
   * The room's push-to-talk floor as the server last reported it: `holder` (peer id, this
   * client's own included, or null), `epoch` (the grant's number; 0 before the first) and
   * `reason` of the latest change (null before any).
   */
  get floor() { return this.#floor; }
  /** The room's topology as the server decided it: `mode` (p2p, mesh, sfu, mcu-audio),
   * `epoch`, `reason`, and `server` ({url, room} of the Janus room, or null). */
  get topology() { return this.#topology; }
  /**
   * This client's link to the room's media server (sfu, mcu-audio): `state` (closed,
   * connecting, ready, lost) and the `mode` it serves; updated before each `mediaserver` event.
   */
  get mediaServer() { return this.#mediaState; }
  /**
   * The media server's audio mix in `mcu-audio` (everybody on the AudioBridge but this client,
   * in one track): play it, as the voices of peers shown from the server are only here. The
   * same stream for the Room's lifetime; empty without a mix (`mix` event when that changes).
   */
  get mixStream() { return this.#tracks.mixStream; }
  /**
   * What the bitrate controller last measured (once a second while there are peers and local
   * media): `uplink`, `downlink` and per-peer rates and scores; null before the first sample.
   */
  get stats() { return this.#stats; }
  /** True when a live microphone track exists and is enabled. */
  get micEnabled() { return this.#kindEnabled('audio'); }
  /** True when a live camera track exists and is enabled. */
  get cameraEnabled() { return this.#kindEnabled('video'); }

  /**
   * Sends `data` peer to peer to `to` (a peer id, a Peer, or an array of them), or to every peer
   * when `to` is omitted. A string arrives as a string, an ArrayBuffer or typed array as an
   * ArrayBuffer, any other JSON value as that value (`message` event). Messages of any size up
   * to the limit (16 MiB by default) are cut into chunks and interleaved with other traffic;
   * until a peer's channel opens they wait in a bounded queue.
   * `reliable: false` sends on the unordered channel without retransmissions: for data that is
   * worthless when late.
   * All targets or none: when one peer refuses it, nobody gets it.
   * @throws {ChorusError} 'not-connected' (unknown peer, room left), 'message-too-large',
   *   'send-queue-full' (that peer's queue is over its limit)
   */
  send(data, { to, reliable = true } = {}) {
    this.#requireJoined();
    this.#data.send(this.#targets(to), data, !!reliable);
  }

  /**
   * Sends a file (any Blob) to one peer, read in slices and paced by the receiver, with
   * progress on both sides and a SHA-256 check at the end. The peer gets a `file` event.
   * @param {Blob} file
   * @param {{to: string|Peer, name?: string, type?: string}} options
   * @returns {FileTransfer}
   * @throws {ChorusError} 'not-connected' (unknown peer or channel not open), 'send-queue-full'
   */
  sendFile(file, { to, name, type } = {}) {
    this.#requireJoined();
    if (!(file instanceof Blob)) throw new TypeError('file must be a Blob or File');
    const [peerId] = this.#targets(to);
    if (to === undefined || Array.isArray(to)) throw new TypeError('sendFile needs one peer: { to }');
    return this.#data.sendFile(peerId, file, {
      name: String(name ?? file.name ?? ''),
      type: String(type ?? file.type ?? ''),
    });
  }

  /** Mutes/unmutes the microphone; turning it on acquires one if there is none yet. */
  setMicEnabled(enabled) { return this.#setKindEnabled('audio', !!enabled); }

  /** Turns the camera off/on; turning it on acquires one if there is none yet. */
  setCameraEnabled(enabled) { return this.#setKindEnabled('video', !!enabled); }

  /** Starts sending `track` (e.g. a screen share) to every peer. The caller keeps ownership. */
  addTrack(track) {
    if (this.localStream.getTracks().includes(track)) return;
    this.localStream.addTrack(track);
    this.#localTracksChanged();
  }

  /** Stops sending `track`. Does not stop the track itself unless the Room acquired it. */
  removeTrack(track) {
    if (!this.localStream.getTracks().includes(track)) return;
    this.localStream.removeTrack(track);
    if (this.#ownedTracks.delete(track)) track.stop();
    this.#localTracksChanged();
  }

  /**
   * The video quality to receive from `peer` over the media server (sfu with simulcast):
   * `low`, `medium` or `high`. Kept for when the peer's video comes from the server; on the
   * mesh it changes nothing (`layer` events say what the server sends). The bitrate controller
   * keeps this choice whatever the view size and the downlink say; `null` gives the choice back
   * to it.
   */
  setVideoQuality(peer, quality) {
    const peerId = typeof peer === 'string' ? peer : peer?.id;
    if (typeof peerId !== 'string') throw new TypeError('setVideoQuality needs a peer id or a Peer');
    if (quality !== null && !QUALITIES.includes(quality)) throw new TypeError(`quality must be one of ${QUALITIES.join(', ')} or null`);
    if (this.#state === 'left') return;
    this.#bitrate.input({ type: 'layer-preference', peer: peerId, layer: quality === null ? null : layerLetter(quality) });
    if (quality === null) {
      this.#layers.delete(peerId);
      return;
    }
    this.#layers.set(peerId, quality);
    this.#media?.input({ type: 'set-layer', peer: peerId, layer: quality });
  }

  /**
   * Tells the bitrate controller how big `peer`'s video is shown in `element` (watched with a
   * ResizeObserver; hidden = 0 x 0), so nobody sends more than is seen. Returns the function
   * that stops watching.
   */
  attachView(peer, element) {
    const peerId = typeof peer === 'string' ? peer : peer?.id;
    if (this.#state === 'left') return () => {};
    return this.#views.attach(peerId, element);
  }

  /**
   * Relays any JSON value to every other peer through the signaling server (they get a
   * `broadcast` event). For chat and app data prefer send(): it goes peer to peer. If the
   * signaling socket is down the core reports an `error` event ('not-connected').
   */
  broadcast(data) {
    if (this.#state === 'left') throw new ChorusError('not-connected', 'the room has been left');
    if (data === undefined) throw new TypeError('broadcast needs a JSON value');
    this.#executor.input({ type: 'broadcast', data });
  }

  /**
   * Asks the server for the room's push-to-talk floor. Resolves `{epoch, maxTalkMs}` once
   * granted (the floor ends by itself after maxTalkMs: a `floorrevoked` event says so).
   * Rejects with a ChorusError: 'floor-denied' (`err.holder` holds it, `err.reason` 'busy';
   * 'timeout' when the server did not answer in 5 s) or 'not-connected' (signaling is down,
   * or the room was left). Asking again while holding it resolves with the same epoch.
   */
  requestFloor() {
    if (this.#state === 'left' || this.#executor.disposed) {
      return Promise.reject(floorError('not-connected', 'the room has been left', null, 'not-connected'));
    }
    const id = this.#nextFloorRequest++;
    const answer = new Promise((resolve, reject) => this.#floorRequests.set(id, { resolve, reject }));
    this.#executor.input({ type: 'floor-request', id });
    return answer;
  }

  /** Gives the floor back (also right after requestFloor(), before its answer). No-op when not holding it. */
  releaseFloor() {
    if (this.#state === 'left') return;
    this.#executor.input({ type: 'floor-release' });
  }

  /**
   * Push-to-talk on this room (the walkie-talkie): opens the microphone and the Opus worklets,
   * loading the codec on first use. One per room; calling again returns the same one until it
   * is closed. Voice goes peer to peer on the unreliable DataChannel to everyone in the room;
   * who may talk is the server's floor (requestFloor). See PushToTalkOptions in index.d.ts.
   */
  pushToTalk(options = {}) {
    if (this.#state === 'left') return Promise.reject(new ChorusError('not-connected', 'the room has been left'));
    if (!this.#pushToTalk) {
      const link = {
        sendVoice: (epoch, seq, timestamp, last, packet) => this.#data.sendVoice(epoch, seq, timestamp, last, packet),
        setVoiceSink: (sink) => { this.#voiceSink = sink; },
      };
      this.#pushToTalk = import('./voice/push-to-talk.js')
        .then(({ PushToTalk }) => PushToTalk.create(this, link, options))
        .then((ptt) => {
          ptt.addEventListener('closed', () => { this.#pushToTalk = null; }, { once: true });
          return ptt;
        }, (err) => {
          this.#pushToTalk = null;
          throw err;
        });
    }
    return this.#pushToTalk;
  }

  /** Leaves the room: peers are told at once, connections close and acquired devices stop. */
  leave() {
    if (this.#state === 'left') return;
    this.#executor.input({ type: 'leave' });
  }

  /** The RTCPeerConnection to a peer (for getStats()), or null. Do not drive it yourself. */
  getPeerConnection(peerId) {
    return this.#executor.peerConnection(peerId);
  }

  /**
   * A media-server connection ('publisher', 'subscriber', 'audiobridge') for getStats(), or
   * null. Do not drive it yourself.
   */
  getMediaServerConnection(name) {
    return this.#media?.peerConnection(name) ?? null;
  }

  // --- internals ---

  /** @param {Promise<MediaStream>|null} media pending getUserMedia, null when the app gave a stream */
  #start(media) {
    globalThis.addEventListener?.('pagehide', this.#onPageHide);
    const joined = new Promise((resolve, reject) => { this.#joinWaiter = { resolve, reject }; });
    const input = {
      type: 'join', room: this.#roomName, name: this.#displayName, role: this.#role, servers: this.#servers,
    };
    if (this.#token !== undefined) input.token = this.#token;
    if (this.#policy !== undefined) input.policy = this.#policy;
    if (media) {
      input.media = 'pending';
      this.#mediaPending = true;
      media.then((stream) => this.#onMediaReady(stream), (err) => this.#onMediaFailed(err));
    }
    this.#executor.input(input);
    return joined;
  }

  #onMediaReady(stream) {
    if (this.#state === 'left') {
      stream.getTracks().forEach((t) => t.stop());
      return;
    }
    for (const t of stream.getTracks()) {
      this.localStream.addTrack(t);
      this.#ownedTracks.add(t);
    }
    this.#mediaPending = false;
    this.#executor.input({ type: 'local-media-ready' });
    this.#media?.localMediaChanged();
    this.#maybeStartBitrate();
    this.#maybeResolveJoin();
  }

  #onMediaFailed(err) {
    // The core decides what a failed getUserMedia means (today: the join fails, fatal error
    // `media-unavailable`, which rejects join()).
    this.#executor.input({ type: 'local-media-failed', message: String(err?.message ?? err) });
  }

  /** join() resolves once the server welcomed us and the local media is in localStream. */
  #maybeResolveJoin() {
    if (!this.#joinWaiter || this.#mediaPending || this.peerId === null) return;
    const { resolve } = this.#joinWaiter;
    this.#joinWaiter = null;
    resolve(this);
  }

  #onCoreEvent(ev) {
    switch (ev.event) {
      case 'statechange': return this.#setState(ev.state);
      case 'joined': return this.#onJoined(ev);
      case 'peerjoined':
        this.#addPeer(ev.peer, true);
        return this.#media?.input({ type: 'peer-added', peer: ev.peer.id });
      case 'peerleft': return this.#removePeer(ev.peerId, ev.reason);
      case 'media-path':
        return this.#media?.input({ type: 'media-path', from: ev.from, path: ev.path, using: ev.using });
      case 'layers': return this.#bitrate.input({ type: 'layer-wants', from: ev.from, layer: ev.layer });
      case 'peerstatechange': {
        const peer = this.peers.get(ev.peerId);
        if (!peer || peer.connectionState === ev.state) return;
        peer.connectionState = ev.state;
        return this.#emit('peerstatechange', { peer, state: ev.state });
      }
      case 'broadcast':
        return this.#emit('broadcast', { from: ev.from, peer: this.peers.get(ev.from) ?? null, data: ev.data });
      case 'error': return this.#onError(ev);
      case 'floor': return this.#onFloor(ev);
      case 'topology': {
        const { mode, epoch, reason, server } = ev;
        this.#topology = Object.freeze({ mode, epoch, reason, server: server ? Object.freeze({ ...server }) : null });
        this.#routeTopology();
        return this.#emit('topology', { ...this.#topology });
      }
      case 'floorgranted': return this.#onFloorAnswer(ev);
      case 'floordenied': return this.#onFloorAnswer(ev);
      case 'floorrevoked':
        return this.#emit('floorrevoked', {
          epoch: ev.epoch, reason: ev.reason, holder: ev.holder, peer: this.#peerOrNull(ev.holder),
        });
      default: console.warn('chorus: unknown core event', ev);
    }
  }

  #setState(state) {
    if (state === this.#state) return;
    this.#state = state;
    if (state === 'left') this.#teardown();
    this.#emit('statechange', { state });
  }

  #onJoined(ev) {
    this.peerId = ev.peerId;
    // What the mesh's stats say about our uplink goes to the server's topology decision.
    this.#uplink ??= new UplinkSampler(
      () => [...this.peers.keys()].map((id) => this.#executor.peerConnection(id)).filter(Boolean),
      () => this.localStream.getVideoTracks().some((t) => t.readyState === 'live' && t.enabled),
      (input) => { if (!this.#executor.disposed) this.#executor.input(input); });
    this.#iceServers = ev.iceServers ?? [];
    this.#media?.input(this.#selfInput());
    if (ev.role) this.#role = ev.role;
    this.#identity = ev.identity ?? null;
    // The core announces every peer with `peerjoined` (those in the welcome too, just before
    // this event) and removes them with `peerleft`; this only guards against a missed one.
    for (const p of ev.peers) this.#addPeer(p, false);
    this.#maybeResolveJoin();
  }

  #onFloor({ holder, epoch, reason }) {
    this.#floor = Object.freeze({ holder, epoch, reason });
    this.#emit('floor', { holder, epoch, reason, peer: this.#peerOrNull(holder) });
  }

  /** The core's answer to requestFloor(): settles its promise, then tells the listeners. */
  #onFloorAnswer(ev) {
    const waiter = this.#floorRequests.get(ev.id);
    this.#floorRequests.delete(ev.id);
    if (ev.event === 'floorgranted') {
      waiter?.resolve({ epoch: ev.epoch, maxTalkMs: ev.maxTalkMs });
      this.#emit('floorgranted', { epoch: ev.epoch, maxTalkMs: ev.maxTalkMs });
      return;
    }
    waiter?.reject(floorError(ev.code, ev.message, ev.holder, ev.reason));
    this.#emit('floordenied', {
      code: ev.code, message: ev.message, reason: ev.reason, holder: ev.holder, peer: this.#peerOrNull(ev.holder),
    });
  }

  /** The Peer for an id, or null (unknown, or this client itself). */
  #peerOrNull(id) {
    return id == null ? null : this.peers.get(id) ?? null;
  }

  #addPeer({ id, name, role, identity }, announce) {
    if (this.peers.has(id)) return;
    const peer = new Peer(id, name ?? '', role ?? 'talker', identity ?? null);
    peer.quality = null; // the AbrCore's latest score of what we receive from it (`quality` event)
    this.peers.set(id, peer);
    this.#maybeStartBitrate();
    // Three or more: the next tier may come (a classroom or a walkie channel leaves the mesh at
    // 3, a meeting at 5). The media-server module is fetched and compiled now, in the
    // background, so a switch does not wait for it on a busy machine (~1 s measured).
    if (this.peers.size >= 2) loadMediaCore().catch(() => {});
    if (announce) this.#emit('peerjoined', { peer });
  }

  #removePeer(id, reason) {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.#media?.input({ type: 'peer-removed', peer: id });
    this.#views.forget(id);
    this.#bitrate.input({ type: 'peer-removed', peer: id });
    this.#tracks.forgetPeer(id);
    this.#layers.delete(id);
    this.peers.delete(id);
    this.#executor.forgetPeer(id);
    peer.connectionState = 'closed';
    this.#emit('peerleft', { peer, peerId: id, reason });
  }

  #onError({ code, message, peer: peerId, fatal }) {
    if (fatal && this.#joinWaiter) {
      const { reject } = this.#joinWaiter;
      this.#joinWaiter = null;
      reject(new ChorusError(code, message, { peerId }));
      return;
    }
    this.#emit('error', { code, message, peerId, peer: peerId ? this.peers.get(peerId) ?? null : null, fatal: !!fatal });
  }

  #onMessage(peerId, data, reliable) {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.#emit('message', { peer, from: peerId, data, reliable });
  }

  #onFile(peerId, transfer) {
    const peer = this.peers.get(peerId);
    if (!peer) return transfer.cancel('the sender is not in the room');
    this.#emit('file', { peer, from: peerId, transfer });
  }

  #requireJoined() {
    if (this.#state === 'left' || this.#executor.disposed) {
      throw new ChorusError('not-connected', 'the room has been left');
    }
  }

  /** Peer ids for a `to` option: one or several ids or Peers; every peer when undefined. */
  #targets(to) {
    const ids = to === undefined ? [...this.peers.keys()]
      : (Array.isArray(to) ? to : [to]).map((p) => (typeof p === 'string' ? p : p?.id));
    for (const id of ids) {
      if (!this.peers.has(id)) throw new ChorusError('not-connected', `no peer "${id}" in this room`, { peerId: id });
    }
    return ids;
  }

  #kindEnabled(kind) {
    return this.#tracksOf(kind).some((t) => t.readyState === 'live' && t.enabled);
  }

  #tracksOf(kind) {
    return kind === 'audio' ? this.localStream.getAudioTracks() : this.localStream.getVideoTracks();
  }

  async #setKindEnabled(kind, enabled) {
    this.#wanted[kind] = enabled;
    const live = this.#tracksOf(kind).filter((t) => t.readyState === 'live');
    if (live.length || !enabled) {
      live.forEach((t) => { t.enabled = enabled; });
      return;
    }
    // No usable device of this kind (joined without it, or it ended): acquire one.
    this.#pendingTrack[kind] ??= this.#acquire(kind).finally(() => { this.#pendingTrack[kind] = undefined; });
    return this.#pendingTrack[kind];
  }

  async #acquire(kind) {
    const track = await getTrack(kind, this.#constraints[kind]);
    if (this.#state === 'left') {
      track.stop();
      return;
    }
    track.enabled = this.#wanted[kind];
    for (const old of this.#tracksOf(kind)) {
      this.localStream.removeTrack(old);
      if (this.#ownedTracks.delete(old)) old.stop();
    }
    this.localStream.addTrack(track);
    this.#ownedTracks.add(track);
    this.#localTracksChanged();
  }

  #localTracksChanged() {
    this.#executor.input({ type: 'local-tracks-changed' });
    this.#media?.localMediaChanged();
    this.#maybeStartBitrate();
  }

  // --- bitrate and quality (bitrate.js) ---

  /**
   * The AbrCore starts (its module loads) once there is a peer and media: ours to send, or a
   * peer's track received (a viewer without a camera still has layers to pick and quality to
   * show). A data-only room never loads it.
   */
  #maybeStartBitrate() {
    if (this.#state === 'left' || this.#mediaPending || this.peers.size === 0) return;
    if (this.localStream.getTracks().length === 0 && !this.#receivesMedia) return;
    this.#bitrate.start();
  }

  /** Every connection that carries media: the mesh's, and the media server's. */
  #mediaConnections() {
    const list = [];
    for (const id of this.peers.keys()) {
      const pc = this.#executor.peerConnection(id);
      if (pc) list.push({ id, path: 'mesh', pc, peerOfMid: () => id });
    }
    for (const [id, path] of Object.entries(JANUS_PATHS)) {
      const pc = this.#media?.peerConnection(id);
      if (pc) list.push({ id, path, pc, peerOfMid: (mid) => this.#media?.peerOfMid(id, mid) });
    }
    return list;
  }

  #onQuality({ peer: peerId, score, audio, video }) {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    peer.quality = Object.freeze({ score, audio: audio ?? null, video: video ?? null });
    this.#emit('quality', { peer, peerId, ...peer.quality });
  }

  // --- the media server (sfu, mcu-audio) ---

  /**
   * The first topology with a media server starts the MediaServer (loading its module) with
   * the room as it is now; every topology goes to it from then on, mesh ones too (it brings
   * the media back).
   */
  #routeTopology() {
    const t = this.#topology;
    const input = { type: 'topology', mode: t.mode, epoch: t.epoch, server: t.server ? { ...t.server } : null };
    if (this.#media?.usable) return this.#media.input(input);
    if (!SERVER_MODES.includes(t.mode) || !t.server || this.#state === 'left') return;
    const inputs = [
      this.#selfInput(),
      ...[...this.peers.keys()].map((peer) => ({ type: 'peer-added', peer })),
      ...[...this.#layers].map(([peer, layer]) => ({ type: 'set-layer', peer, layer })),
      input,
    ];
    this.#media = new MediaServer({
      localStream: this.localStream,
      iceTransportPolicy: this.#iceTransportPolicy,
      tracks: this.#tracks,
      sendMediaPath: ({ to, path, using }) => this.#executor.input({ type: 'send-media-path', to, path, using }),
      setMeshSending: (peerId, kinds, on) => this.#executor.setMeshSending(peerId, kinds, on),
      onEvent: (ev) => this.#onMediaEvent(ev),
    }, inputs, { mediaPending: this.#mediaPending });
  }

  #selfInput() {
    return { type: 'self', peerId: this.peerId ?? '', iceServers: this.#iceServers };
  }

  #onMediaEvent(ev) {
    switch (ev.event) {
      case 'media-server':
        this.#mediaState = Object.freeze({ state: ev.state, mode: ev.mode });
        return this.#emit('mediaserver', { state: ev.state, mode: ev.mode });
      case 'layer':
        return this.#emit('layer', { peerId: ev.peer, peer: this.#peerOrNull(ev.peer), layer: ev.layer });
      // Never fatal for the room: the mesh carries the media meanwhile.
      case 'error': return this.#onError({ code: ev.code, message: ev.message, peer: ev.peer, fatal: false });
      default: console.warn('chorus: unknown media core event', ev);
    }
  }

  #teardown() {
    globalThis.removeEventListener?.('pagehide', this.#onPageHide);
    for (const t of this.#ownedTracks) t.stop();
    this.#ownedTracks.clear();
    for (const peer of this.peers.values()) peer.connectionState = 'closed';
    // The core answers every request before it leaves; this only guards against a missed one.
    for (const { reject } of this.#floorRequests.values()) {
      reject(floorError('not-connected', 'the room has been left', null, 'not-connected'));
    }
    this.#floorRequests.clear();
    this.#media?.close();
    this.#uplink?.stop();
    this.#bitrate.stop();
    this.#views.dispose();
    this.#executor.dispose();
    // A fatal `error` may follow `statechange: left` in the same drain and carries the real
    // reason; only if none came is the join aborted without a code.
    queueMicrotask(() => {
      if (!this.#joinWaiter) return;
      const { reject } = this.#joinWaiter;
      this.#joinWaiter = null;
      reject(new DOMException('the room was left before the join completed', 'AbortError'));
    });
  }

  #emit(type, fields) {
    this.dispatchEvent(new RoomEvent(type, fields));
  }
}

/** A refused requestFloor(): the code, plus who holds the floor and why it was refused. */
function floorError(code, message, holder, reason) {
  const err = new ChorusError(code, message);
  err.holder = holder ?? null;
  err.reason = reason;
  return err;
}

const ROLES = ['talker', 'dispatcher', 'teacher', 'student'];
const QUALITIES = ['low', 'medium', 'high'];
/** The media server's connections, by their AbrCore id, and the path each is. */
const JANUS_PATHS = Object.freeze({ publisher: 'publish', subscriber: 'subscribe', audiobridge: 'bridge' });
const POLICIES = ['meeting', 'classroom', 'walkie'];

/** Defaults to the page's own origin: the chorus server serves pages and signaling on one port. */
function signalingUrl(url) {
  const base = globalThis.location?.href;
  if (url === undefined) {
    if (!base) throw new TypeError('url is required outside a browser page');
    const u = new URL('/', base);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.href;
  }
  const u = new URL(String(url), base); // throws TypeError for a malformed URL
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError(`not a WebSocket URL: ${url}`);
  return u.href;
}
