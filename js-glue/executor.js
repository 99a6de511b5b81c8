// Runs one ClientCore: feeds it every browser event as a JSON input, drains its outputs and
// carries out each action on the real WebSocket / RTCPeerConnection / RTCDataChannel objects.
// Nothing here decides anything about the session (who offers, when to restart ICE or
// reconnect): the core does, and this file only reports what happened. Contract:
// docs/architecture.md.
import { CoreLoop, now } from './core-loop.js';
import { setPaused, syncSenders } from './senders.js';
import { closeSilently } from './socket-close.js';

export class Executor {
  #loop;
  #urls;
  #host;
  #ws = null;
  #preconnected = null;
  #links = new Map();    // peer id -> { pc, channel, polite }
  // peer id -> kinds whose mesh senders are paused (the media core's `mesh-sending`): kept per
  // peer, not per pc, as the pause may come before the connection and outlives a replaced one.
  #meshPaused = new Map();

  /**
   * @param {object} core a ClientCore instance (owned from now on: disposed with this executor)
   * @param {string[]} urls signaling WebSocket URLs (servers that share rooms over Redis);
   *   `open-socket` names the one to use (the core moves on after each closed socket)
   * @param {WebSocket|null} preconnected a socket to `urls[0]` opened early, used by the first
   *   `open-socket` (then reported like one it made: open, or closed if it failed meanwhile)
   * @param {{localStream: MediaStream, iceTransportPolicy?: RTCIceTransportPolicy,
   *          data: import('./data-plane.js').DataPlane,
   *          onEvent(ev: object): void,
   *          onTrack(peerId: string, ev: RTCTrackEvent, pc: RTCPeerConnection): void,
   *          onPeerConnectionClosed(peerId: string): void}} host
   */
  constructor(core, urls, preconnected, host) {
    this.#loop = new CoreLoop(core, {
      poll: (c) => c.poll(),
      execute: (out) => this.#executeOrReport(out),
      release: () => this.#release(),
    });
    this.#urls = urls;
    this.#preconnected = preconnected ?? null;
    this.#host = host;
  }

  get disposed() { return this.#loop.core === null; }

  /** Hands one input (see docs/architecture.md, "Inputs") to the core, then drains. */
  input(input) {
    this.#loop.input(input);
  }

  /** Frees the core and every browser object once the current drain is over. */
  dispose() {
    this.#loop.dispose();
  }

  /** A peer left the room: its DataChannel state (queues, transfers) goes too. */
  forgetPeer(peerId) {
    this.#host.data.removePeer(peerId);
    this.#meshPaused.delete(peerId);
  }

  /**
   * The media core's `mesh-sending`: our senders of `kinds` to that peer carry the local tracks
   * (on) or nothing (replaceTrack(null), no renegotiation), also across later sync-senders.
   */
  setMeshSending(peerId, kinds, on) {
    const paused = new Set(this.#meshPaused.get(peerId));
    for (const k of kinds) {
      if (on) paused.delete(k);
      else paused.add(k);
    }
    if (paused.size) this.#meshPaused.set(peerId, paused);
    else this.#meshPaused.delete(peerId);
    const link = this.#links.get(peerId);
    if (link) setPaused(link.pc, paused);
  }

  /** The peer's RTCPeerConnection, for getStats() and debugging. */
  peerConnection(peerId) {
    return this.#links.get(peerId)?.pc ?? null;
  }

  #executeOrReport(out) {
    const output = JSON.parse(out);
    try {
      this.#execute(output);
    } catch (err) {
      // One action the browser refused (new RTCPeerConnection with a bad ICE server, an action
      // on a connection it just closed) must not strand the outputs behind it, and the core
      // must hear of it: it decides what the failure means.
      console.error('chorus: executing core output failed', out, err);
      if (output.peer !== undefined && this.#loop.core) {
        this.#loop.core.handle(JSON.stringify({
          type: 'operation-failed', peer: output.peer, operation: output.action,
          name: err?.name ?? 'Error', message: String(err?.message ?? err),
        }), now());
      }
    }
  }

  #execute(out) {
    if (out.event !== undefined) {
      this.#host.onEvent(out);
      return;
    }
    switch (out.action) {
      case 'open-socket': return this.#openSocket(out.server ?? 0);
      case 'close-socket': return this.#dropSocket(out.code);
      case 'send': return this.#send(out.data);
      case 'create-peer-connection': return this.#createPeerConnection(out);
      case 'sync-senders':
        return this.#withLink(out, (l) => syncSenders(l.pc, this.#host.localStream, this.#pausedKinds(out.peer)));
      case 'set-local-description': return this.#withLink(out, (l) => this.#setLocal(out.peer, l, out.description));
      case 'set-remote-description': return this.#withLink(out, (l) => this.#setRemote(out.peer, l, out.description));
      case 'add-ice-candidate': return this.#withLink(out, (l) => this.#addCandidate(out.peer, l, out.candidate));
      case 'restart-ice': return this.#withLink(out, (l) => l.pc.restartIce());
      case 'set-ice-servers':
        return this.#withLink(out, (l) => l.pc.setConfiguration({ ...l.pc.getConfiguration(), iceServers: out.iceServers }));
      case 'close-peer-connection': return this.#closePeerConnection(out.peer);
      default: console.warn('chorus: unknown core output', out);
    }
  }

  // --- signaling socket ---

  #openSocket(server) {
    this.#dropSocket();
    // The early socket is to urls[0]: adopted only when the core asks for that server.
    let ws = server === 0 ? this.#preconnected : null;
    if (ws === null) this.#preconnected?.close();
    this.#preconnected = null;
    if (!ws) {
      try {
        ws = new WebSocket(this.#urls[server % this.#urls.length]);
      } catch (err) {
        // A URL the browser refuses is reported like a failed connection; the core decides.
        console.warn('chorus: cannot open WebSocket', err);
        setTimeout(() => this.input({ type: 'socket-closed', code: 1006 }), 0);
        return;
      }
    }
    this.#ws = ws;
    // An adopted socket may have opened (or failed) already: report that state, later, as
    // its event would have been.
    if (ws.readyState === WebSocket.OPEN) {
      queueMicrotask(() => { if (this.#ws === ws) this.input({ type: 'socket-open' }); });
    } else if (ws.readyState !== WebSocket.CONNECTING) {
      this.#ws = null;
      queueMicrotask(() => this.input({ type: 'socket-closed', code: 1006 }));
      return;
    }
    ws.onopen = () => this.input({ type: 'socket-open' });
    ws.onmessage = (e) => {
      if (!this.#loop.core || typeof e.data !== 'string') return; // the protocol is text-only
      this.#loop.core.handleSocketMessage(e.data, now());
      this.#loop.drain();
    };
    ws.onclose = (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.input({ type: 'socket-closed', code: e.code });
    };
  }

  /**
   * Forgets the current socket without reporting its close (the core's `close-socket`, or a
   * new socket replacing it: the core counts it as gone already). `code` undefined sends no
   * status (the server counts the peer as away, keeping its seat); 1000 means gone for good.
   */
  #dropSocket(code) {
    const ws = this.#ws;
    if (!ws) return;
    this.#ws = null;
    closeSilently(ws, code);
  }

  #send(data) {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(data);
    else console.warn('chorus: core sent while the socket is not open; dropped');
  }

  // --- peer connections ---

  #createPeerConnection({ peer, polite, iceServers }) {
    if (this.#links.has(peer)) this.#closePeerConnection(peer);
    // The ICE servers come from the core (the server's welcome); the policy is the app's.
    const pc = new RTCPeerConnection({
      iceServers: iceServers ?? [],
      iceTransportPolicy: this.#host.iceTransportPolicy ?? 'all',
    });
    // The DataChannel protocol runs its own core; the session only hears when channel 0 opens.
    const [channel] = this.#host.data.attach(peer, pc);
    const link = { pc, channel, polite };
    this.#links.set(peer, link);
    // Events of a connection that was closed or replaced must not reach the core.
    const live = () => this.#links.get(peer) === link;
    const report = (input) => { if (live()) this.input({ ...input, peer }); };

    pc.onnegotiationneeded = () => report({ type: 'negotiationneeded' });
    pc.onsignalingstatechange = () => report({ type: 'signalingstatechange', state: pc.signalingState });
    pc.onconnectionstatechange = () => report({ type: 'connectionstatechange', state: pc.connectionState });
    pc.onicecandidate = (e) => report({ type: 'icecandidate', candidate: e.candidate ? e.candidate.toJSON() : null });
    pc.ontrack = (e) => { if (live()) this.#host.onTrack(peer, e, pc); };

    channel.addEventListener('open', () => report({ type: 'datachannel-state', state: 'open' }));
    channel.addEventListener('close', () => report({ type: 'datachannel-state', state: 'closed' }));
  }

  #closePeerConnection(peer) {
    const link = this.#links.get(peer);
    if (!link) return;
    this.#links.delete(peer);
    const { pc } = link;
    this.#host.data.detach(peer);
    pc.onnegotiationneeded = pc.onsignalingstatechange = pc.onconnectionstatechange = null;
    pc.onicecandidate = pc.ontrack = null;
    pc.close();
    this.#host.onPeerConnectionClosed(peer);
  }

  #pausedKinds(peer) {
    return this.#meshPaused.get(peer) ?? new Set();
  }

  #withLink(out, fn) {
    const link = this.#links.get(out.peer);
    if (!link) {
      console.warn(`chorus: ${out.action} for a peer without a connection`, out.peer);
      return;
    }
    fn(link);
  }

  #setLocal(peer, link, description) {
    // Without a description: the implicit offer/answer of perfect negotiation.
    link.pc.setLocalDescription(description).then(
      () => this.#reportIfLive(peer, link, {
        type: 'local-description-set',
        description: link.pc.localDescription ? link.pc.localDescription.toJSON() : null,
      }),
      (err) => this.#failed(peer, link, 'setLocalDescription', err));
  }

  #setRemote(peer, link, description) {
    link.pc.setRemoteDescription(description).then(
      () => this.#reportIfLive(peer, link, { type: 'remote-description-set' }),
      (err) => this.#failed(peer, link, 'setRemoteDescription', err));
  }

  #addCandidate(peer, link, candidate) {
    link.pc.addIceCandidate(candidate ?? undefined)
      .catch((err) => this.#failed(peer, link, 'addIceCandidate', err));
  }

  #failed(peer, link, operation, err) {
    this.#reportIfLive(peer, link, {
      type: 'operation-failed', operation,
      name: err?.name ?? 'Error', message: String(err?.message ?? err),
    });
  }

  #reportIfLive(peer, link, input) {
    if (this.#links.get(peer) === link) this.input({ ...input, peer });
  }

  // --- teardown ---

  #release() {
    for (const peer of [...this.#links.keys()]) this.#closePeerConnection(peer);
    this.#host.data.dispose();
    this.#dropSocket(1000);
    this.#preconnected?.close(1000);
    this.#preconnected = null;
  }
}
