// The app's view of one remote participant. The Room keeps these up to date; apps read them.

export class Peer {
  /**
   * @param {string} id server-assigned peer id
   * @param {string} name display name
   * @param {'talker'|'dispatcher'|'teacher'|'student'} [role] its role (a dispatcher may preempt
   *   a talker's floor)
   * @param {string|null} [identity] who the server verified it is (its access token's `sub`)
   */
  constructor(id, name, role = 'talker', identity = null) {
    this.id = id;
    this.name = name;
    this.role = role;
    this.identity = identity;
    /** @type {RTCPeerConnectionState} as reported by the core's `peerstatechange` */
    this.connectionState = 'new';
    /**
     * Every live remote track of this peer in one stream, whatever stream ids the sender used:
     * `video.srcObject = peer.stream` keeps working across renegotiations.
     */
    this.stream = new MediaStream();
    /** @type {MediaStream[]} the remote streams as the sender grouped them (mesh connection) */
    this.streams = [];
    /**
     * Where `stream`'s tracks come from, per kind: 'mesh' (the peer connection to this peer) or
     * 'server' (the room's media server), as the media core decided (`mediapath` event).
     * @type {{readonly audio: 'mesh'|'server', readonly video: 'mesh'|'server'}}
     */
    this.mediaPath = MESH;
  }

  get audioTracks() { return this.stream.getAudioTracks(); }
  get videoTracks() { return this.stream.getVideoTracks(); }
}

const MESH = Object.freeze({ audio: 'mesh', video: 'mesh' });
