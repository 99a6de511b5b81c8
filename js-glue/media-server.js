// Runs one MediaCore (wasm/topology/server_media.hpp: the room's media on Janus, and the
// make-before-break moves between the mesh and the server) for a Room. Created when the room's
// topology first names a media server; the module is loaded then, and the core stays for the
// Room's lifetime (it also brings the media back to the mesh).
//
// The Room routes to it what the ClientCore reports (self, topology, peers, media-path signals)
// and the local media; FlowWatch reports when remote tracks really play. Its outputs are carried
// out here: janus-* by the JanusExecutor, mesh-sending and send-media-path through the Room's
// Executor, show and server-streams by the TrackSwitch; the events go to the Room.
import { loadMediaCore } from './core.js';
import { CoreLoop } from './core-loop.js';
import { FlowWatch } from './flow-watch.js';
import { JanusExecutor } from './janus-executor.js';

/** Topology modes with a media server (a `server` in the topology). */
export const SERVER_MODES = Object.freeze(['sfu', 'mcu-audio']);

export class MediaServer {
  #host;
  #loop = null;
  #pending = [];   // inputs that came while the module loads, in order
  #janus;
  #flow = null;
  #serverUrl = null;
  #state = 'loading'; // loading, running, failed, closed
  #module = null;
  #mediaKnown;        // false while the join's getUserMedia runs: what we publish is not known yet
  #streams = new Map(); // pc name -> Map<mid ('*': every mid), peer id | null (the mix)>: server-streams

  /**
   * @param {{localStream: MediaStream, iceTransportPolicy?: RTCIceTransportPolicy,
   *          tracks: import('./track-switch.js').TrackSwitch,
   *          sendMediaPath(input: {to: string, path: string, using: boolean}): void,
   *          setMeshSending(peerId: string, kinds: string[], on: boolean): void,
   *          onEvent(ev: object): void}} host
   *   onEvent gets the core's events for the app (media-server, layer, error) and a failed load
   *   (error janus-unreachable).
   * @param {object[]} inputs the room as it is now (self, peers, topology ...); `local-media` is
   *   added when the core starts
   * @param {{mediaPending?: boolean}} [o] mediaPending: the join's getUserMedia still runs; the
   *   core starts once localMediaChanged() says it is over, so it never publishes an empty offer
   */
  constructor(host, inputs, { mediaPending = false } = {}) {
    this.#host = host;
    this.#mediaKnown = !mediaPending;
    this.#janus = new JanusExecutor({
      localStream: host.localStream,
      iceTransportPolicy: host.iceTransportPolicy,
      serverUrl: () => this.#serverUrl,
      report: (input) => this.input(input),
      socketMessage: (text) => {
        if (!this.#loop?.core) return;
        this.#loop.core.handleSocketMessage(text, performance.now());
        this.#loop.drain();
      },
      onTrack: (pc, mid, track, streams, connection) => host.tracks.addServerTrack(pc, mid, track, streams, connection),
      onClosed: (pc) => host.tracks.serverClosed(pc),
    });
    for (const input of inputs) this.input(input);
    loadMediaCore().then((mod) => {
      this.#module = mod;
      this.#start();
    }, (err) => this.#loadFailed(err));
  }

  /** False once the module failed to load (a later topology change may make a new one). */
  get usable() { return this.#state === 'loading' || this.#state === 'running'; }

  /** A media-core input (server_media.hpp, "Inputs"); queued while the module loads. */
  input(input) {
    if (input.type === 'topology' && input.server?.url) this.#serverUrl = input.server.url;
    if (this.#state === 'loading') this.#pending.push(input);
    else if (this.#state === 'running') this.#loop.input(input);
  }

  /** The local stream's tracks changed (or the join's getUserMedia is over). */
  localMediaChanged() {
    if (!this.#mediaKnown) {
      this.#mediaKnown = true;
      this.#start();
      return;
    }
    this.#janus.syncLocalTracks();
    this.input(this.#localMedia());
  }

  /** A media-server connection (publisher, subscriber, audiobridge), for getStats(); or null. */
  peerConnection(name) {
    return this.#janus.peerConnection(name);
  }

  /**
   * Whose media the media-server connection `pc` receives on `mid` (the core's server-streams):
   * a peer id, null for the AudioBridge mix, undefined when not known.
   */
  peerOfMid(pc, mid) {
    const map = this.#streams.get(pc);
    if (!map) return undefined;
    return map.has(mid) ? map.get(mid) : map.get('*');
  }

  /** The room is left: the core leaves Janus (its last outputs go out), then everything closes. */
  close() {
    if (this.#state === 'closed') return;
    const running = this.#state === 'running';
    this.#state = 'closed';
    this.#pending = [];
    if (running) {
      this.#loop.input({ type: 'leave' });
      this.#loop.dispose();
    } else {
      this.#janus.dispose();
    }
  }

  #localMedia() {
    const stream = this.#host.localStream;
    const videoTracks = stream.getVideoTracks().length;
    return { type: 'local-media', audio: stream.getAudioTracks().length > 0, video: videoTracks > 0, videoTracks };
  }

  /** Once the module is loaded and the local media known. */
  #start() {
    if (this.#state !== 'loading' || !this.#module || !this.#mediaKnown) return;
    const mod = this.#module;
    const seed = crypto.getRandomValues(new Uint32Array(1))[0];
    const core = new mod.MediaCore(JSON.stringify({ seed }));
    this.#loop = new CoreLoop(core, {
      poll: (c) => c.poll(),
      execute: (out) => this.#executeOrReport(out),
      release: () => this.#release(),
    });
    this.#state = 'running';
    const pending = [this.#localMedia(), ...this.#pending];
    this.#pending = [];
    for (const input of pending) this.#loop.input(input);
    // From now on every remote track's flow is reported (those already playing too).
    this.#flow = new FlowWatch((group, flowing) => this.input({ type: 'media-flowing', ...group, flowing }));
    this.#host.tracks.observe(this.#flow);
  }

  #loadFailed(err) {
    if (this.#state !== 'loading') return;
    this.#state = 'failed';
    this.#pending = [];
    // We paused or moved nothing: the mesh carries on as before (peers that paused theirs to
    // us resume it when we stay silent: the core's silenceGraceMs).
    this.#host.onEvent({
      event: 'error', code: 'janus-unreachable', fatal: false,
      message: `could not load the media server module: ${err?.message ?? err}`,
    });
  }

  #release() {
    this.#host.tracks.observe(null);
    this.#flow?.dispose();
    this.#janus.dispose();
  }

  #executeOrReport(out) {
    const output = JSON.parse(out);
    try {
      this.#execute(output);
    } catch (err) {
      // As in the Executor: one refused action must not strand the ones behind it, and the
      // core hears of it when it concerns a connection.
      console.error('chorus: executing media core output failed', out, err);
      if (output.pc !== undefined) {
        this.input({
          type: 'operation-failed', pc: output.pc, operation: output.action,
          name: err?.name ?? 'Error', message: String(err?.message ?? err),
        });
      }
    }
  }

  #execute(out) {
    if (out.event !== undefined) {
      if (out.event === 'server-streams') {
        this.#streams.set(out.pc, new Map((out.streams ?? []).map((st) => [String(st.mid), st.peer ?? null])));
        return this.#host.tracks.setServerStreams(out.pc, out.streams ?? []);
      }
      return this.#host.onEvent(out);
    }
    switch (out.action) {
      case 'send-media-path': return this.#host.sendMediaPath({ to: out.to, path: out.path, using: out.using });
      case 'mesh-sending': return this.#host.setMeshSending(out.peer, out.kinds ?? [], !!out.on);
      case 'show': return this.#host.tracks.show(out.peer, out.path, out.kinds ?? []);
      default:
        if (typeof out.action === 'string' && out.action.startsWith('janus-')) return this.#janus.execute(out);
        console.warn('chorus: unknown media core output', out);
    }
  }
}
