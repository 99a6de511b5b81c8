// Carries out the Janus session's actions (wasm/janus/janus_session.hpp, "Actions") on the
// browser's objects: the janus-protocol WebSocket and one RTCPeerConnection per handle, named
// by its `pc` (publisher, subscriber, audiobridge), and reports what they do as media-core
// inputs. The Janus API itself (transactions, plugin messages, trickle) is the core's.
import { closeSilently } from './socket-close.js';

export class JanusExecutor {
  #host;
  #ws = null;
  #pcs = new Map(); // pc name -> {pc, direction}

  /**
   * @param {{localStream: MediaStream, iceTransportPolicy?: RTCIceTransportPolicy,
   *          serverUrl(): string | null,
   *          report(input: object): void,
   *          socketMessage(text: string): void,
   *          onTrack(pc: string, mid: string, track: MediaStreamTrack, streams: readonly MediaStream[], connection: RTCPeerConnection): void,
   *          onClosed(pc: string): void}} host
   *   report: an input for the media core; socketMessage: a text frame from Janus; onTrack /
   *   onClosed: a media-server connection's remote track, and its end.
   */
  constructor(host) {
    this.#host = host;
  }

  /** The RTCPeerConnection of a handle (for getStats()), or null. */
  peerConnection(name) {
    return this.#pcs.get(name)?.pc ?? null;
  }

  /** Carries out one janus-* action. Throws for one the browser refused at once. */
  execute(out) {
    switch (out.action) {
      case 'janus-open-socket': return this.#openSocket(out);
      case 'janus-send': return this.#send(out.data);
      case 'janus-close-socket': return this.#dropSocket(out.code);
      case 'janus-create-peer-connection': return this.#createPeerConnection(out);
      case 'janus-create-offer': return this.#with(out, (l) => this.#createOffer(out.pc, l, out));
      case 'janus-set-remote-description':
        return this.#with(out, (l) => this.#op(out.pc, l, 'setRemoteDescription',
          l.pc.setRemoteDescription(out.description), () => ({ type: 'remote-description-set' })));
      case 'janus-set-local-description':
        // Without a description: the implicit answer to Janus's offer.
        return this.#with(out, (l) => this.#setLocal(out.pc, l));
      case 'janus-add-ice-candidate':
        return this.#with(out, (l) => this.#op(out.pc, l, 'addIceCandidate',
          l.pc.addIceCandidate(out.candidate ?? undefined), null));
      case 'janus-close-peer-connection': return this.#closePeerConnection(out.pc);
      default: console.warn('chorus: unknown media core action', out);
    }
  }

  /**
   * The local stream changed: the media server's senders carry its current tracks (a
   * re-acquired camera is swapped in without renegotiation; a new kind needs an offer, which
   * the core asks for with janus-create-offer).
   */
  syncLocalTracks() {
    const local = this.#host.localStream.getTracks();
    for (const { pc } of this.#pcs.values()) {
      const used = new Set(pc.getSenders().map((s) => s.track).filter((t) => t && local.includes(t)));
      for (const tr of sending(pc)) {
        const current = tr.sender.track;
        if (current && local.includes(current)) continue;
        // A track of that kind no sender carries yet (never the same track on two senders).
        const next = local.find((t) => t.kind === tr.receiver.track?.kind && !used.has(t)) ?? null;
        if (next) used.add(next);
        if (next !== current) replace(tr.sender, next);
      }
    }
  }

  /** Closes the socket and every connection; nothing more is reported. */
  dispose() {
    this.#dropSocket(1000);
    for (const name of [...this.#pcs.keys()]) this.#closePeerConnection(name);
  }

  // --- the janus-protocol socket ---

  #openSocket({ protocol, url }) {
    this.#dropSocket(1000);
    const target = url ?? this.#host.serverUrl();
    let ws;
    try {
      if (!target) throw new TypeError('no media server URL (the topology names none)');
      ws = new WebSocket(target, protocol ?? 'janus-protocol');
    } catch (err) {
      // Refused at once (bad URL, ws:// from https): reported like a failed connection.
      console.warn('chorus: cannot open the media server socket', err);
      setTimeout(() => this.#host.report({ type: 'janus-socket-closed', code: 1006 }), 0);
      return;
    }
    this.#ws = ws;
    ws.onopen = () => { if (this.#ws === ws) this.#host.report({ type: 'janus-socket-open' }); };
    ws.onmessage = (e) => {
      if (this.#ws === ws && typeof e.data === 'string') this.#host.socketMessage(e.data);
    };
    ws.onclose = (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#host.report({ type: 'janus-socket-closed', code: e.code });
    };
  }

  #send(data) {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(data);
    else console.warn('chorus: media core sent while the Janus socket is not open; dropped');
  }

  /** Forgets the socket without reporting its close: the core counts it as gone already. */
  #dropSocket(code) {
    const ws = this.#ws;
    if (!ws) return;
    this.#ws = null;
    closeSilently(ws, code);
  }

  // --- peer connections ---

  #createPeerConnection({ pc: name, iceServers, direction }) {
    if (this.#pcs.has(name)) this.#closePeerConnection(name);
    const pc = new RTCPeerConnection({
      iceServers: iceServers ?? [],
      iceTransportPolicy: this.#host.iceTransportPolicy ?? 'all',
    });
    const link = { pc, direction: direction ?? 'sendonly' };
    this.#pcs.set(name, link);
    const report = (input) => { if (this.#pcs.get(name) === link) this.#host.report({ ...input, pc: name }); };
    pc.onicecandidate = (e) => report({ type: 'icecandidate', candidate: e.candidate ? e.candidate.toJSON() : null });
    pc.onconnectionstatechange = () => report({ type: 'connectionstatechange', state: pc.connectionState });
    // Janus names each m-line by its mid; the core's server-streams maps mids to peers.
    pc.ontrack = (e) => {
      if (this.#pcs.get(name) === link) this.#host.onTrack(name, e.transceiver.mid, e.track, e.streams, pc);
    };
  }

  #closePeerConnection(name) {
    const link = this.#pcs.get(name);
    if (!link) return;
    this.#pcs.delete(name);
    const { pc } = link;
    pc.onicecandidate = pc.onconnectionstatechange = pc.ontrack = null;
    pc.close();
    this.#host.onClosed(name);
  }

  /**
   * The local tracks of the kinds asked for go on this connection: the publisher's sendonly
   * (video with the simulcast `encodings`), the bridge's one sendrecv audio transceiver (which
   * also receives the mix, microphone or not). Asked again on the same connection (the core
   * renegotiates after the tracks changed), existing transceivers are reused.
   */
  #createOffer(name, link, { audio, video, encodings }) {
    const { pc, direction } = link;
    const stream = this.#host.localStream;
    const dir = direction === 'sendrecv' ? 'sendrecv' : 'sendonly';
    // One transceiver per local track of a kind (a camera and a screen share are two videos),
    // reused in order across offers; the ones left over go inactive.
    for (const [kind, wanted] of [['audio', !!audio], ['video', !!video]]) {
      const tracks = wanted ? stream.getTracks().filter((t) => t.kind === kind) : [];
      const slots = pc.getTransceivers().filter((t) => !t.stopped && t.receiver.track?.kind === kind);
      slots.forEach((tr, i) => {
        const track = tracks[i] ?? null;
        if (tr.sender.track !== track) replace(tr.sender, track);
        tr.direction = track || (i === 0 && wanted && dir === 'sendrecv') ? dir : 'inactive';
      });
      tracks.slice(slots.length).forEach((track) => {
        const init = { direction: dir, streams: [stream] };
        // Simulcast for cameras; a screen share keeps one full-resolution encoding (its low
        // layers would be unreadable).
        const screen = track.getSettings?.().displaySurface !== undefined || track.contentHint === 'detail' || track.contentHint === 'text';
        if (kind === 'video' && !screen && Array.isArray(encodings) && encodings.length) init.sendEncodings = encodings;
        pc.addTransceiver(track, init);
      });
      if (wanted && dir === 'sendrecv' && tracks.length === 0 && slots.length === 0) pc.addTransceiver(kind, { direction: dir });
    }
    // An offer without an m-line is not one Janus takes ("Missing mandatory lines"): the core
    // hears that there was nothing to offer instead (operation-failed, by the caller).
    if (!pc.getTransceivers().some((t) => !t.stopped && t.direction !== 'inactive')) {
      throw new DOMException('no local audio or video track to offer', 'NotFoundError');
    }
    this.#setLocal(name, link);
  }

  #setLocal(name, link) {
    this.#op(name, link, 'setLocalDescription', link.pc.setLocalDescription(), () => ({
      type: 'local-description-set',
      description: link.pc.localDescription ? link.pc.localDescription.toJSON() : null,
    }));
  }

  /** Reports an operation's outcome (`done()`'s input, or operation-failed) if the pc is still current. */
  #op(name, link, operation, promise, done) {
    const live = () => this.#pcs.get(name) === link;
    promise.then(
      () => { if (done && live()) this.#host.report({ ...done(), pc: name }); },
      (err) => {
        if (!live()) return;
        this.#host.report({
          type: 'operation-failed', pc: name, operation,
          name: err?.name ?? 'Error', message: String(err?.message ?? err),
        });
      });
  }

  #with(out, fn) {
    const link = this.#pcs.get(out.pc);
    if (!link) {
      console.warn(`chorus: ${out.action} for a media server connection that does not exist`, out.pc);
      return;
    }
    fn(link);
  }
}

function sending(pc) {
  return pc.getTransceivers().filter((tr) => !tr.stopped
    && (tr.direction === 'sendonly' || tr.direction === 'sendrecv'));
}

function replace(sender, track) {
  sender.replaceTrack(track).catch((err) => console.warn('chorus: replaceTrack failed', err));
}
