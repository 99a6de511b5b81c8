// Samples what the mesh connections' stats say about this client's uplink, every few seconds,
// for the server's topology decision: the ClientCore turns each sample into an `uplink` report
// (docs/architecture.md, `uplink-sample`). Only reads getStats(); the core and the server decide.

export const UPLINK_SAMPLE_MS = 5000;

export class UplinkSampler {
  #timer = null;
  #busy = false;

  /**
   * @param {() => RTCPeerConnection[]} connections the mesh connections now
   * @param {() => boolean} sendsVideo whether a local video track is live
   * @param {(input: object) => void} report hands the sample to the ClientCore
   */
  constructor(connections, sendsVideo, report, intervalMs = UPLINK_SAMPLE_MS) {
    this.#timer = setInterval(() => this.#sample(connections, sendsVideo, report), intervalMs);
  }

  stop() {
    clearInterval(this.#timer);
    this.#timer = null;
  }

  async #sample(connections, sendsVideo, report) {
    if (this.#busy) return; // a slow getStats() under load: skip a beat rather than pile up
    this.#busy = true;
    try {
      const pcs = connections().filter((pc) => pc.connectionState === 'connected');
      if (pcs.length === 0) return;
      const rows = await Promise.all(pcs.map(connectionSample));
      if (this.#timer !== null) report({ type: 'uplink-sample', video: sendsVideo(), connections: rows });
    } catch (err) {
      console.warn('chorus: uplink sample failed', err);
    } finally {
      this.#busy = false;
    }
  }
}

// The selected candidate pair's availableOutgoingBitrate (bps -> kbit/s) and the worst
// qualityLimitationReason of the connection's video senders that send: a sender paused for the
// media server (no track) keeps reporting the reason it had when it last encoded.
async function connectionSample(pc) {
  const sending = new Set(pc.getTransceivers()
    .filter((t) => t.mid !== null && t.sender.track?.kind === 'video').map((t) => t.mid));
  const stats = await pc.getStats();
  let pairId = null;
  let availableKbps = null;
  let qualityLimitationReason = 'none';
  stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
  stats.forEach((s) => {
    if (s.type === 'candidate-pair' && (s.id === pairId || (pairId === null && s.nominated))
      && typeof s.availableOutgoingBitrate === 'number') {
      availableKbps = s.availableOutgoingBitrate / 1000;
    }
    if (s.type === 'outbound-rtp' && s.kind === 'video' && sending.has(s.mid) && s.qualityLimitationReason
      && s.qualityLimitationReason !== 'none' && qualityLimitationReason === 'none') {
      qualityLimitationReason = s.qualityLimitationReason;
    }
  });
  return { availableKbps, qualityLimitationReason };
}
