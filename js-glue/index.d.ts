// Type declarations for chorus-rtc's browser API (hand-written: Emscripten 3.1.6 has no
// --emit-tsd, and the public surface is the JavaScript in this folder anyway).

/**
 * Every error code of chorus-rtc, for the server and the client library alike. The same list as
 * docs/protocol.md ("Error codes") and the C++ `chorus::ErrorCode` enum.
 */
export type ChorusErrorCode =
  /** server: the frame is not valid JSON (or not a JSON object) */
  | 'bad-json'
  /** server, client: a known type with a missing or wrongly typed field */
  | 'bad-message'
  /** server, client: `type` is not one this version knows */
  | 'unknown-type'
  /** server: the frame is over the size limit */
  | 'message-too-large'
  /** server: a binary frame */
  | 'binary-not-supported'
  /** server: `join.v` is not 1 */
  | 'unsupported-version'
  /** server: `signal`/`broadcast` before `join` */
  | 'not-joined'
  /** server: a second `join` on one socket */
  | 'already-joined'
  /** server: the room has its maximum number of peers */
  | 'room-full'
  /** server: `signal.to` is not a peer of the sender's room */
  | 'unknown-peer'
  /** server: the resumed id belongs to someone else */
  | 'resume-rejected'
  /** client: the signaling server could not be reached */
  | 'signaling-unreachable'
  /** client: a description or candidate was refused by the browser */
  | 'negotiation-failed'
  /** client: getUserMedia failed */
  | 'media-unavailable'
  /** client: a message or file for a peer that is unknown or without an open channel, or after leave */
  | 'not-connected'
  /** client: a DataChannel frame that breaks the format (truncated, unknown type, lying lengths, out of order) */
  | 'bad-frame'
  /** client: a peer has too many unfinished messages or transfers; the new one was dropped */
  | 'reassembly-limit'
  /** client: the send queue to that peer is over its limit (messages or bytes) */
  | 'send-queue-full'
  /** client: a received file's SHA-256 differs from the sender's */
  | 'integrity-mismatch'
  /** client: a transfer could not go on (its channel closed, the file could not be read) */
  | 'transfer-failed'
  | 'floor-denied'
  | 'floor-violation'
  | 'bad-audio'
  | 'unauthorized'
  | 'token-expired'
  | 'rate-limited'
  | 'too-many-connections'
  | 'too-many-rooms'
  | 'origin-not-allowed'
  | 'janus-error'
  | 'janus-timeout'
  | 'janus-unreachable'
  | 'bad-stats';

/** All codes of {@link ChorusErrorCode}, in the order of docs/protocol.md. */
export const ERROR_CODES: readonly ChorusErrorCode[];

/** The one error type chorus-rtc throws or rejects with (besides TypeError/RangeError for misuse). */
export class ChorusError extends Error {
  constructor(code: ChorusErrorCode, message: string, options?: { cause?: unknown; peerId?: string });
  readonly name: 'ChorusError';
  /** What went wrong, from one enumerated list. */
  readonly code: ChorusErrorCode;
  /** The peer concerned, when there is one. */
  readonly peerId?: string;
}

/** Lifecycle of a Room. `reconnecting`: the signaling socket dropped and is being re-opened. */
export type RoomState = 'new' | 'connecting' | 'joined' | 'reconnecting' | 'left';

/** Why a peer left: it said so, its socket went silent, or another session took its seat. */
export type PeerLeftReason = 'left' | 'timeout';

/** Media to send: per kind, `true`, `false` or getUserMedia constraints. */
export interface MediaOptions {
  audio?: boolean | MediaTrackConstraints;
  video?: boolean | MediaTrackConstraints;
}

export interface JoinOptions {
  /**
   * Signaling server WebSocket URL (`ws://`, `wss://`; `http(s)://` is converted). Defaults to
   * the page's own origin, where the chorus server also serves its pages. A list names servers
   * that share rooms over Redis: the first is used, and each reconnect tries the next, so a
   * client whose server died finds another and resumes there.
   */
  url?: string | URL | Array<string | URL>;
  /** Room name: 1..128 characters, no control characters. */
  room: string;
  /** Display name shown to the others: 0..64 characters. Default ''. */
  name?: string;
  /**
   * What to send. Default `{audio: true, video: true}`, acquired with getUserMedia while the
   * signaling connection is made (offers wait for it; join() resolves with the tracks in
   * `localStream`). `{audio: false, video: false}` joins data-only. A MediaStream is sent as is and
   * is not stopped by {@link Room.leave}.
   */
  media?: MediaOptions | MediaStream;
  /**
   * Access token for servers that require one (config `auth`): a JWT signed with HS256 by the
   * app's backend (claims `room`, `sub`, `role`, `exp`; docs/protocol.md, "Access tokens"). A
   * bad one fails the join with `unauthorized`, an expired one with `token-expired`.
   */
  token?: string;
  /**
   * Role. Default `'talker'`. A `'dispatcher'`'s floor request preempts a talker's; a server
   * that does not allow dispatchers fails the join with `floor-denied`. On a server with access
   * tokens the token's role wins, and `dispatcher` and `teacher` need a token that grants them
   * (else `unauthorized`).
   */
  role?: PeerRole;
  /**
   * The room's policy when this join creates the room (later joiners' are ignored): `meeting`
   * (default: mesh up to 4, SFU from 5), `classroom` (one teacher to many: SFU from 3),
   * `walkie` (audio only: the AudioBridge mix from 3). Needs a server with Janus configured;
   * without one every room is a mesh.
   */
  policy?: 'meeting' | 'classroom' | 'walkie';
  /** Limits and pacing of the DataChannel protocol; the defaults suit most apps. */
  data?: DataOptions;
  /**
   * Which ICE candidates the peer connections may use. Default `'all'`. `'relay'` sends
   * everything through the TURN servers of the server's `welcome.iceServers` (hides this
   * client's addresses; connects only if a TURN server accepts the credentials). Any other
   * value throws a TypeError.
   */
  iceTransportPolicy?: 'all' | 'relay';
  /**
   * Default `true`: the bitrate controller (the C++ AbrCore, docs/architecture.md, "Bitrate
   * and quality") splits this client's uplink over its connections, lowers or stops video
   * before audio suffers, and picks simulcast layers by what is watched. `false` leaves the
   * senders to the browser's own congestion control; {@link Room.stats} and
   * {@link Peer.quality} are measured either way.
   */
  adaptiveBitrate?: boolean;
}

/** DataChannel protocol options (docs/architecture.md, "DataCore"). */
export interface DataOptions {
  /** Largest message {@link Room.send} accepts and a peer may send us. Default 16 MiB. */
  maxMessageBytes?: number;
  /** Bytes queued per peer on the reliable channel before send() throws `send-queue-full`. Default 32 MiB. */
  maxQueuedBytes?: number;
  /** File bytes a sender may have in flight beyond what we have written. Default 1.25 MiB. */
  receiveWindow?: number;
  /** Concurrent transfers per peer and direction. Default 32. */
  maxTransfers?: number;
  /** Minimum time between progress events of one transfer. Default 250 ms. */
  progressIntervalMs?: number;
  /** Incoming files larger than this are refused (the sender sees a cancel). Default 2^53. */
  maxFileBytes?: number;
  /** Pacing (measured defaults, docs/BENCHMARKS.md): bufferedAmount ceiling of the file channel. Default 512 KiB. */
  bulkHighWater?: number;
  /** bufferedAmountLowThreshold of channels 0 and 2; kept at most half of bulkHighWater. Default 256 KiB. */
  bulkLowWater?: number;
  /** Largest frame, whatever sctp.maxMessageSize allows. Default 256 KiB. */
  maxChunkBytes?: number;
}

/**
 * What {@link Room.send} takes: a string (arrives as a string), binary data (arrives as an
 * ArrayBuffer) or any other JSON value (arrives parsed).
 */
export type MessageData = string | ArrayBuffer | ArrayBufferView | number | boolean | null | object;

/** Progress of a transfer, on both sides. */
export interface FileTransferProgressEvent extends RoomEvent {
  readonly type: 'progress';
  readonly transfer: FileTransfer;
  readonly bytes: number;
  readonly total: number;
  /** Bytes per second over the last ~2 s (0 until known). */
  readonly rate: number;
  /** Seconds left at that rate; null while unknown. */
  readonly eta: number | null;
}
export interface FileTransferCompleteEvent extends RoomEvent { readonly type: 'complete'; readonly transfer: FileTransfer; readonly sha256: string; }
export interface FileTransferCancelEvent extends RoomEvent {
  readonly type: 'cancel';
  readonly transfer: FileTransfer;
  /** Which side cancelled (`remote` also when the peer left). */
  readonly by: 'local' | 'remote';
  readonly reason: string;
}
export interface FileTransferErrorEvent extends RoomEvent {
  readonly type: 'error';
  readonly transfer: FileTransfer;
  readonly code: ChorusErrorCode;
  readonly message: string;
}
export interface FileTransferEventMap {
  progress: FileTransferProgressEvent;
  complete: FileTransferCompleteEvent;
  cancel: FileTransferCancelEvent;
  error: FileTransferErrorEvent;
}

/**
 * One file on its way, on the sending side (from {@link Room.sendFile}) or the receiving side
 * (the Room's `file` event). Completion means the receiver has every byte and both sides
 * computed the same SHA-256.
 */
export class FileTransfer extends EventTarget {
  private constructor();
  /** The sender's transfer id (unique per peer and direction). */
  readonly id: number;
  readonly direction: 'send' | 'receive';
  /** The other side's peer id. */
  readonly peerId: string;
  readonly name: string;
  readonly size: number;
  /** MIME type, as the sender gave it. */
  readonly type: string;
  /** Bytes sent (handed to the channel) or received so far. */
  readonly bytes: number;
  readonly rate: number;
  readonly eta: number | null;
  readonly state: 'active' | 'complete' | 'cancelled' | 'failed';
  /** Lowercase hex SHA-256 of the file, once complete. */
  readonly sha256: string | null;
  /** The received file (receive side, complete, without {@link FileTransfer.writeTo}). */
  readonly blob: Blob | null;
  /** Resolves on completion; rejects with an AbortError DOMException on cancel, a ChorusError on failure. */
  readonly done: Promise<FileTransfer>;
  /** Stops the transfer on both sides. */
  cancel(reason?: string): void;
  /**
   * Receive side: write into `stream` instead of collecting a Blob. Call from the `file` event
   * handler, before data arrives; the sender is paced by the stream. A promise of a stream
   * (e.g. from a save-file picker) is fine: data waits for it, bounded by the receive window.
   */
  writeTo(stream: WritableStream<Uint8Array> | Promise<WritableStream<Uint8Array>>): void;
  addEventListener<K extends keyof FileTransferEventMap>(
    type: K,
    listener: (this: FileTransfer, ev: FileTransferEventMap[K]) => any,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof FileTransferEventMap>(
    type: K,
    listener: (this: FileTransfer, ev: FileTransferEventMap[K]) => any,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

/** One remote participant, kept up to date by the Room. */
export class Peer {
  /** Server-assigned id, unique in the room. */
  readonly id: string;
  /** Display name the peer joined with. */
  readonly name: string;
  /** Its role (from its access token, when the server checks tokens). */
  readonly role: PeerRole;
  /** Who the server verified it is (its access token's `sub`), or null without a token. */
  readonly identity: string | null;
  /** State of the RTCPeerConnection to this peer; `closed` once the peer has left. */
  readonly connectionState: RTCPeerConnectionState;
  /**
   * All live remote tracks of this peer in one stream: `video.srcObject = peer.stream`. When
   * the room moves between the mesh and a media server, the tracks are swapped inside this same
   * stream (make-before-break: the new path's track comes in once its media plays), each new
   * one announced by a `track` event. In `mcu-audio`, a peer whose audio comes from the server
   * has no audio track here: its voice is in {@link Room.mixStream}.
   */
  readonly stream: MediaStream;
  /** The remote streams as the sender grouped them, on the mesh connection. */
  readonly streams: readonly MediaStream[];
  /** Where this peer's tracks in `stream` come from, per kind (`mediapath` event on change). */
  readonly mediaPath: { readonly audio: MediaPath; readonly video: MediaPath };
  readonly audioTracks: MediaStreamTrack[];
  readonly videoTracks: MediaStreamTrack[];
  /** How well we receive this peer (0-5), as last scored; null before the first score. `quality` event on change. */
  readonly quality: PeerQuality | null;
}

// ---- bitrate and quality (docs/architecture.md, "Bitrate and quality") ----

/** The audio part of a {@link PeerQuality}: the E-model (ITU-T G.107) from delay, jitter and loss. */
export interface AudioScore {
  /** 0-5. */
  readonly score: number;
  /** Mean opinion score, 1-4.5. */
  readonly mos: number;
  /** Share of packets lost over the last sample, 0-1. */
  readonly lossFraction: number;
  readonly jitterMs: number;
  /** null until a round-trip time is known. */
  readonly rttMs: number | null;
}
/** The video part of a {@link PeerQuality}: from the decoded size, frame rate and time frozen. */
export interface VideoScore {
  /** 0-5. */
  readonly score: number;
  readonly width: number;
  readonly height: number;
  readonly framesPerSecond: number;
  readonly freezeCount: number;
}
/** How well this client receives a peer: the lower of its audio and video scores (0-5). */
export interface PeerQuality {
  readonly score: number;
  /** Absent (null) when the peer sends no audio to us. */
  readonly audio: AudioScore | null;
  /** Absent (null) when the peer sends no video to us. */
  readonly video: VideoScore | null;
}
/** What we send to and receive from one peer ({@link RoomStats.peers}). */
export interface PeerStats {
  /** How its media reaches us: `mesh`, or the media server's `subscribe` / `bridge`. */
  readonly path: string;
  readonly sendKbps: number;
  readonly receiveKbps: number;
  /** Its quality score (0-5) now (the `quality` event only follows moves of 0.5); null before one is known. */
  readonly quality: number | null;
  /** Whether our video to it is on (the controller turns it off before audio suffers). */
  readonly videoSending: boolean;
}
/** The bitrate controller's latest measurement ({@link Room.stats}), about once a second. */
export interface RoomStats {
  readonly uplink: {
    /** What the controller allows this client to send in all (kbit/s). */
    readonly budgetKbps: number;
    readonly sentKbps: number;
    /** The worst loss our receivers report (0-1); null before any report. */
    readonly lossFraction: number | null;
    /** The longest round-trip time (ms); null before any is known. */
    readonly rttMs: number | null;
  };
  /** What we receive in all; lossFraction null before any packet. */
  readonly downlink: { readonly receivedKbps: number; readonly lossFraction: number | null };
  /** By peer id. */
  readonly peers: { readonly [peerId: string]: PeerStats };
}
/** A peer's {@link Peer.quality} changed (by 0.5 or more). */
export interface RoomQualityEvent extends RoomEvent, PeerQuality {
  readonly type: 'quality';
  readonly peer: Peer;
  readonly peerId: string;
}
/** A new {@link Room.stats} (the same object). */
export interface RoomStatsEvent extends RoomEvent {
  readonly type: 'stats';
  readonly stats: RoomStats;
}
/** The browser's statistics had a value the controller could not use (it kept its decisions). */
export interface RoomWarningEvent extends RoomEvent {
  readonly type: 'warning';
  readonly code: 'bad-stats';
  readonly message: string;
}

/** Base of every Room event: the payload is in named fields. */
export class RoomEvent extends Event {
  constructor(type: string, fields?: Record<string, unknown>);
}

export interface RoomPeerJoinedEvent extends RoomEvent { readonly type: 'peerjoined'; readonly peer: Peer; }
export interface RoomPeerLeftEvent extends RoomEvent {
  readonly type: 'peerleft';
  readonly peer: Peer;
  readonly peerId: string;
  readonly reason: PeerLeftReason;
}
export interface RoomTrackEvent extends RoomEvent {
  readonly type: 'track';
  readonly peer: Peer;
  readonly track: MediaStreamTrack;
  readonly streams: readonly MediaStream[];
}
export interface RoomMessageEvent extends RoomEvent {
  readonly type: 'message';
  readonly peer: Peer;
  /** The sender's peer id (same as `peer.id`). */
  readonly from: string;
  /** Text arrives as a string, binary as an ArrayBuffer, JSON as the parsed value. */
  readonly data: unknown;
  /** False when it came on the unreliable channel (`send(..., { reliable: false })`). */
  readonly reliable: boolean;
}
export interface RoomFileEvent extends RoomEvent {
  readonly type: 'file';
  readonly peer: Peer;
  readonly from: string;
  /** The incoming file: listen for `progress`/`complete`, read `blob`, or `cancel()` it. */
  readonly transfer: FileTransfer;
}
export interface RoomBroadcastEvent extends RoomEvent {
  readonly type: 'broadcast';
  readonly from: string;
  readonly peer: Peer | null;
  /** Any JSON value, relayed by the signaling server. */
  readonly data: unknown;
}
export interface RoomStateChangeEvent extends RoomEvent { readonly type: 'statechange'; readonly state: RoomState; }
export interface RoomPeerStateChangeEvent extends RoomEvent {
  readonly type: 'peerstatechange';
  readonly peer: Peer;
  readonly state: RTCPeerConnectionState;
}
export interface RoomErrorEvent extends RoomEvent {
  readonly type: 'error';
  readonly code: ChorusErrorCode;
  readonly message: string;
  /** The peer concerned, if any. */
  readonly peerId?: string;
  readonly peer: Peer | null;
  /** True when the error ended the session (the room state becomes `left`). */
  readonly fatal: boolean;
}

// ---- push-to-talk floor control (docs/protocol.md, "Floor control") ----

/**
 * A peer's role. In push-to-talk a dispatcher's floor request preempts a talker holding the
 * floor; teacher and student are the classroom's (an access token may set any of them).
 */
export type PeerRole = 'talker' | 'dispatcher' | 'teacher' | 'student';

/** Why the floor last changed: a grant, a preemption by a dispatcher, or how a grant ended. */
export type FloorReason = 'granted' | 'released' | 'timeout' | 'preempted' | 'left' | 'dropped';

/** The room's floor, as the server last reported it ({@link Room.floor}). */
export interface FloorState {
  /** Who talks: a peer id (this client's own included), or null when nobody does. */
  readonly holder: string | null;
  /**
   * The current (or last) grant's number, counted per room from 1; 0 before the first grant.
   * Voice frames carry the epoch of their grant: listeners play only the holder's frames of
   * this epoch.
   */
  readonly epoch: number;
  /** The latest change's reason; null before any. */
  readonly reason: FloorReason | null;
}

/** What {@link Room.requestFloor} resolves with. */
export interface FloorGrant {
  /** Stamp every voice frame of this talk with it. */
  readonly epoch: number;
  /** The server revokes the grant this long after it was made (`floorrevoked`, reason `timeout`). */
  readonly maxTalkMs: number;
}

/**
 * Why a floor request failed: `busy` (someone holds it; see `holder`), `refused` (the server said
 * no for another reason), `timeout` (no answer within 5 s), `not-connected` (signaling down, or
 * the room was left).
 */
export type FloorDeniedReason = 'busy' | 'refused' | 'timeout' | 'not-connected';

/** The ChorusError {@link Room.requestFloor} rejects with. */
export interface FloorRequestError extends ChorusError {
  /** `floor-denied`, or `not-connected` when there was no signaling connection to ask on. */
  readonly code: 'floor-denied' | 'not-connected';
  readonly reason: FloorDeniedReason;
  /** Who holds the floor (as far as this client knows), or null. */
  readonly holder: string | null;
}

/** Every change of the room's floor: who talks now (`holder`), or that nobody does. */
export interface RoomFloorEvent extends RoomEvent, FloorState {
  readonly type: 'floor';
  /** The holder's Peer; null when nobody talks or this client does. */
  readonly peer: Peer | null;
}
/** This client's floor request was granted (its promise resolves with the same values). */
export interface RoomFloorGrantedEvent extends RoomEvent, FloorGrant { readonly type: 'floorgranted'; }
/** This client's floor request was refused (its promise rejects). */
export interface RoomFloorDeniedEvent extends RoomEvent {
  readonly type: 'floordenied';
  readonly code: 'floor-denied' | 'not-connected';
  readonly reason: FloorDeniedReason;
  readonly holder: string | null;
  readonly peer: Peer | null;
  readonly message: string;
}
/** This client held the floor and lost it without releasing it: stop talking. */
export interface RoomFloorRevokedEvent extends RoomEvent {
  readonly type: 'floorrevoked';
  /** The epoch of the grant that ended. */
  readonly epoch: number;
  readonly reason: 'preempted' | 'timeout' | 'dropped';
  /** The new holder (the preempting dispatcher), or null. */
  readonly holder: string | null;
  readonly peer: Peer | null;
}

/** How the room's media flows (docs/protocol.md, "Topology"), decided by the server. */
export type TopologyMode = 'p2p' | 'mesh' | 'sfu' | 'mcu-audio';
export interface TopologyState {
  readonly mode: TopologyMode;
  /** Orders the room's changes; a welcome after a failover may start it over. */
  readonly epoch: number;
  /** Why, in words (e.g. "5 peers", "media server unavailable: back to a mesh"). */
  readonly reason: string;
  /** The Janus instance and room for `sfu` and `mcu-audio`; null otherwise. */
  readonly server: { readonly url: string; readonly room: number } | null;
}
/** The server changed the room's topology. */
export interface RoomTopologyEvent extends RoomEvent, TopologyState { readonly type: 'topology'; }

/**
 * Where a peer's media comes from: `mesh` (the peer connection to that peer, which stays open in
 * every topology: it carries the DataChannels) or `server` (the room's media server).
 */
export type MediaPath = 'mesh' | 'server';
/** A simulcast layer of a peer's video on the media server (sfu). */
export type VideoQuality = 'low' | 'medium' | 'high';
/**
 * This client's link to the room's media server (Janus), loaded when the topology first names
 * one: `closed` (none, or not needed any more), `connecting`, `ready`, `lost` (the session
 * dropped; it is retried with backoff while the topology names the server, and the mesh carries
 * the media meanwhile).
 */
export interface MediaServerState {
  readonly state: 'closed' | 'connecting' | 'ready' | 'lost';
  /** The topology it serves. */
  readonly mode: TopologyMode;
}
/** The media server link changed state ({@link Room.mediaServer}). */
export interface RoomMediaServerEvent extends RoomEvent, MediaServerState { readonly type: 'mediaserver'; }
/** A peer's media is now shown from another path (`peer.mediaPath`, already updated). */
export interface RoomMediaPathEvent extends RoomEvent {
  readonly type: 'mediapath';
  readonly peer: Peer;
  readonly audio: MediaPath;
  readonly video: MediaPath;
}
/** The media server now sends this layer of a peer's video (after {@link Room.setVideoQuality}, or its initial one). */
export interface RoomLayerEvent extends RoomEvent {
  readonly type: 'layer';
  readonly peerId: string;
  readonly peer: Peer | null;
  readonly layer: VideoQuality;
}
/** {@link Room.mixStream} gained its track (`track`) or lost it (`track: null`). */
export interface RoomMixEvent extends RoomEvent {
  readonly type: 'mix';
  readonly stream: MediaStream;
  readonly track: MediaStreamTrack | null;
}

export interface RoomEventMap {
  peerjoined: RoomPeerJoinedEvent;
  peerleft: RoomPeerLeftEvent;
  track: RoomTrackEvent;
  message: RoomMessageEvent;
  file: RoomFileEvent;
  broadcast: RoomBroadcastEvent;
  statechange: RoomStateChangeEvent;
  peerstatechange: RoomPeerStateChangeEvent;
  error: RoomErrorEvent;
  floor: RoomFloorEvent;
  floorgranted: RoomFloorGrantedEvent;
  floordenied: RoomFloorDeniedEvent;
  floorrevoked: RoomFloorRevokedEvent;
  topology: RoomTopologyEvent;
  mediaserver: RoomMediaServerEvent;
  mediapath: RoomMediaPathEvent;
  layer: RoomLayerEvent;
  mix: RoomMixEvent;
  quality: RoomQualityEvent;
  stats: RoomStatsEvent;
  warning: RoomWarningEvent;
}

/**
 * A joined room. Create with {@link Room.join}. Peer connections, negotiation, ICE restarts and
 * reconnects are handled for you by the C++ core; listen for events to update the UI.
 */
export class Room extends EventTarget {
  /**
   * Acquires local media, connects to the signaling server and enters the room.
   * Resolves once the server has welcomed this client.
   * @throws {ChorusError} `media-unavailable` when getUserMedia fails; the code of the core's
   *   fatal error otherwise (`signaling-unreachable`, `room-full`, `bad-message` ...).
   * @throws {TypeError} for a malformed url, room or name.
   */
  static join(options: JoinOptions): Promise<Room>;

  private constructor();

  /** Everyone else in the room, by peer id. */
  readonly peers: ReadonlyMap<string, Peer>;
  /** What this client sends. The same object for the Room's lifetime; tracks come and go. */
  readonly localStream: MediaStream;
  /** This client's id, assigned by the server (set once join() resolves). */
  readonly peerId: string | null;
  readonly state: RoomState;
  /** The room name given to join(). */
  readonly roomName: string;
  /** This client's display name given to join(). */
  readonly displayName: string;
  /** This client's role: as given to join(), then as the server decided it (a token's role wins). */
  readonly role: PeerRole;
  /** The identity the server verified from the access token, or null (joined without one). */
  readonly identity: string | null;
  /** The room's push-to-talk floor: who talks, under which epoch. Updated before each `floor` event. */
  readonly floor: FloorState;
  /** The room's topology, updated before each `topology` event. */
  readonly topology: TopologyState;
  /**
   * This client's link to the media server, updated before each `mediaserver` event;
   * `{state: 'closed', mode: 'p2p'}` until the topology first names a server.
   */
  readonly mediaServer: MediaServerState;
  /**
   * In `mcu-audio`: the AudioBridge's mix of everybody else's voice, in one audio track. Play it
   * (e.g. an `<audio>` element's srcObject) besides the peers' streams: peers whose audio comes
   * from the server have no audio track of their own. The same MediaStream for the Room's
   * lifetime; without a mix it has no track (`mix` event when that changes).
   */
  readonly mixStream: MediaStream;
  /**
   * The bitrate controller's latest measurement (uplink budget, rates, per-peer scores),
   * updated before each `stats` event, about once a second from when the room has a peer and
   * local media; null before. Measured with `adaptiveBitrate: false` too.
   */
  readonly stats: RoomStats | null;
  /** True when a live microphone track exists and is enabled. */
  readonly micEnabled: boolean;
  /** True when a live camera track exists and is enabled. */
  readonly cameraEnabled: boolean;

  /**
   * Sends peer to peer over the chorus DataChannel protocol to `to` (peer id, Peer, or an array
   * of them), or to every peer when omitted. Messages of any size up to `maxMessageBytes` are
   * chunked and interleaved with other traffic (a small message may overtake a large one sent
   * before it); until a peer's channel opens they wait in a bounded queue. `reliable: false`
   * uses the unordered channel without retransmissions.
   * All targets or none: when one peer refuses it, nobody gets it.
   * @throws {ChorusError} `not-connected` (unknown peer, room left), `message-too-large`,
   *   `send-queue-full` (that peer's queue is full).
   * @throws {TypeError} for a Blob (use sendFile) or a value that is not a string, binary data or JSON.
   */
  send(data: MessageData, options?: { to?: string | Peer | ReadonlyArray<string | Peer>; reliable?: boolean }): void;

  /**
   * Sends a file (any Blob) to one peer: read in slices, paced by the receiver, with progress on
   * both sides and a SHA-256 check at the end. The peer gets a `file` event.
   * @throws {ChorusError} `not-connected` (unknown peer, channel not open), `send-queue-full`.
   * @throws {TypeError} when `file` is not a Blob or `to` is not one peer.
   */
  sendFile(file: Blob, options: { to: string | Peer; name?: string; type?: string }): FileTransfer;

  /**
   * Relays a JSON value to every other peer through the signaling server (they get a
   * `broadcast` event). Prefer {@link Room.send} for app data: it goes peer to peer. When the
   * signaling socket is down, an `error` event with code `not-connected` follows.
   * @throws {ChorusError} `not-connected` when the room has been left.
   */
  broadcast(data: unknown): void;

  /**
   * Mutes or unmutes the microphone (`track.enabled`). Enabling when there is no microphone
   * track yet acquires one and renegotiates.
   * @throws {ChorusError} `media-unavailable` (rejection) when the device cannot be acquired.
   */
  setMicEnabled(enabled: boolean): Promise<void>;
  /** Camera counterpart of {@link Room.setMicEnabled}. */
  setCameraEnabled(enabled: boolean): Promise<void>;

  /** Starts sending a track (e.g. from getDisplayMedia) to every peer. The caller owns it. */
  addTrack(track: MediaStreamTrack): void;
  /** Stops sending a track. Tracks the Room acquired itself are also stopped. */
  removeTrack(track: MediaStreamTrack): void;

  /**
   * Leaves the room now: peers are told at once, every connection closes and devices the Room
   * acquired are released. Also called on `pagehide`. The state becomes `left`.
   */
  leave(): void;

  /**
   * Asks the server for the push-to-talk floor (first come, first served; a dispatcher
   * preempts a talker). Asking again while holding it resolves with the same epoch.
   * @throws {FloorRequestError} (rejection) `floor-denied` with `holder` when someone else
   *   holds it or no answer came in 5 s; `not-connected` without a signaling connection.
   */
  requestFloor(): Promise<FloorGrant>;
  /** Gives the floor back; ignored by the server when this client does not hold it. */
  releaseFloor(): void;

  /**
   * Push-to-talk on this room: opens the microphone and two AudioWorklets (Opus encode, and
   * the core's voice receiver: floor check, jitter buffer, decode), loading the Opus module on
   * first use. Voice goes peer to peer on the unreliable DataChannel. One per room: calling
   * again returns the same instance until it is closed.
   * @throws {ChorusError} (rejection) `media-unavailable` when the microphone cannot be opened,
   *   `not-connected` after leave(); a RangeError for an AudioContext not at 48 kHz.
   */
  pushToTalk(options?: PushToTalkOptions): Promise<PushToTalk>;

  /** The RTCPeerConnection to a peer, for getStats(); null if none. Do not drive it directly. */
  getPeerConnection(peerId: string): RTCPeerConnection | null;

  /**
   * One of the media server's RTCPeerConnections (`publisher`, `subscriber`, `audiobridge`),
   * for getStats(); null if none. Do not drive it directly.
   */
  getMediaServerConnection(name: 'publisher' | 'subscriber' | 'audiobridge'): RTCPeerConnection | null;

  /**
   * The simulcast layer to receive of `peer`'s video while it comes from the media server
   * (sfu). Kept for the peer's lifetime: asked while on the mesh, it applies once the video
   * comes from the server. A `layer` event follows when the server switched. The bitrate
   * controller keeps this choice whatever the view size and downlink say; `null` lets it choose
   * again.
   * @throws {TypeError} for a quality other than `low`, `medium`, `high`, null, or no peer.
   */
  setVideoQuality(peer: string | Peer, quality: VideoQuality | null): void;

  /**
   * Tells the bitrate controller that `element` shows `peer`'s video: its rendered size in
   * device pixels (0 x 0 when hidden or removed) caps what is sent for it. Several elements
   * for one peer count at the largest. Returns the function that stops watching it.
   * @throws {TypeError} for no peer or no element.
   */
  attachView(peer: string | Peer, element: Element): () => void;

  addEventListener<K extends keyof RoomEventMap>(
    type: K,
    listener: (this: Room, ev: RoomEventMap[K]) => any,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof RoomEventMap>(
    type: K,
    listener: (this: Room, ev: RoomEventMap[K]) => any,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

// ---- push-to-talk (js-glue/voice/) ---------------------------------------------------------

export interface PushToTalkOptions {
  /** Where voice plays (48 kHz). Default: a new AudioContext, closed with the PushToTalk. */
  audioContext?: AudioContext;
  /** The node voice plays into (e.g. an AnalyserNode that goes on to the speaker). Default: the destination. */
  output?: AudioNode;
  /**
   * The microphone. Default: getUserMedia with echo cancellation, noise suppression and AGC,
   * stopped on close(). `false`: listen only (no permission asked; press() rejects
   * `media-unavailable`).
   */
  microphone?: MediaStream | false;
  /** Encoder settings (mono; 48 kHz). Defaults: frameMs 20, bitrate 24000, complexity 5, fec true, dtx false, packetLoss 10, application 'voip'. */
  opus?: Partial<Omit<import('./opus.js').OpusEncoderOptions, 'channels'>>;
  /** Report `onset` events (sound after silence) at the microphone and the output, for latency measurements. */
  probe?: boolean;
}

/** Playout statistics of the voice receiver, every 0.5 s (docs/architecture.md, "VoiceReceiver"). */
export interface VoiceStats {
  received: number; duplicates: number; late: number; outOfRange: number; overflow: number;
  decoded: number; lost: number; fecRecovered: number; concealed: number; underruns: number;
  droppedForDrift: number; targetMs: number; bufferedMs: number; jitterMs: number;
  decodeErrors: number; violations: number;
}

export interface VoicePacketEvent extends Event {
  readonly type: 'voicepacket';
  readonly peerId: string;
  readonly epoch: number;
  readonly seq: number;
  /** 48 kHz samples since the burst began. */
  readonly timestamp: number;
  /** The burst's final packet. */
  readonly last: boolean;
  /** One Opus packet (yours to keep: e.g. store it for replay). */
  readonly packet: Uint8Array;
}

export interface PushToTalkEventMap {
  /** Granted: this side is sending under `epoch`. */
  talking: Event & { readonly epoch: number };
  /** This side released and its last packet went out. */
  released: Event;
  /** The floor was taken away (`preempted` by a dispatcher, or `timeout`): sending stopped. */
  revoked: Event & { readonly reason: string };
  /** A remote talker's voice started / stopped playing. */
  talkstart: Event & { readonly peerId: string };
  talkend: Event & { readonly peerId: string };
  /** Every voice packet accepted for playout (after the floor check). */
  voicepacket: VoicePacketEvent;
  /** Every packet this side sent (e.g. to keep its own messages too). */
  sentpacket: Event & { readonly epoch: number; readonly seq: number; readonly timestamp: number; readonly last: boolean; readonly packet: Uint8Array };
  /** `floor-violation` (voice from a peer without the floor: not played) or `bad-audio` (absurd numbers, or a packet that does not decode: concealed). */
  error: Event & { readonly code: ChorusErrorCode; readonly message: string; readonly peerId: string | null; readonly error: ChorusError };
  stats: Event & { readonly stats: VoiceStats };
  /** With `probe`: an onset at the `capture` (microphone) or `playout` side, `time` in epoch ms (performance.timeOrigin based). */
  onset: Event & { readonly side: 'capture' | 'playout'; readonly time: number; readonly outputLatency: number };
  closed: Event;
}

export class PushToTalk extends EventTarget {
  readonly audioContext: AudioContext;
  /** Whether a microphone is attached (false: listen only). */
  readonly canTalk: boolean;
  /** Whether this side holds the floor and is sending. */
  readonly talking: boolean;
  /** The peer whose voice is playing, or null. */
  readonly talker: string | null;
  readonly stats: VoiceStats | null;
  /**
   * Asks for the floor and starts sending; encoding starts at once and waits for the grant,
   * so the first syllable is kept. Rejects like Room.requestFloor().
   */
  press(): Promise<FloorGrant>;
  /** Stops sending (the last packet carries the end flag) and gives the floor back. */
  release(): void;
  /** Changes bitrate, complexity, fec, dtx or packetLoss on the fly. */
  configure(opus: import('./opus.js').OpusEncoderChanges): void;
  /** Releases the floor if held, stops the worklets and what this instance opened. */
  close(): void;
  addEventListener<K extends keyof PushToTalkEventMap>(
    type: K,
    listener: (this: PushToTalk, ev: PushToTalkEventMap[K]) => any,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof PushToTalkEventMap>(
    type: K,
    listener: (this: PushToTalk, ev: PushToTalkEventMap[K]) => any,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}
