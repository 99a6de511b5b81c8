// One RTCPeerConnection's getStats() as the AbrCore's `Connection` (docs/architecture.md,
// "Bitrate and quality"). Only reads and regroups: values are copied in webrtc-stats units as
// the browser gives them (the C++ side validates them and takes the differences), absent ones
// are left out. The only work done here is joining rows the core cannot join itself: the
// selected candidate pair, each encoding's media-source, each remote-inbound-rtp's
// outbound-rtp, and whose media each inbound-rtp carries.
//
// One value is not the report's: a video encoding's `sourceFramesPerSecond` is the capture
// rate of the track it sends (track.getSettings().frameRate) when there is one. Chromium's
// media-source row counts the frames that reach that sender after its maxFramerate (measured,
// Chromium 156: capped at 4, the media-source said 4 of the camera's 15), so a controller that
// sizes maxFramerate by it could only ever lower it.

const PAIR_FIELDS = ['availableOutgoingBitrate', 'currentRoundTripTime', 'bytesSent', 'bytesReceived'];
const OUTBOUND_FIELDS = ['bytesSent', 'packetsSent', 'framesPerSecond', 'frameWidth', 'frameHeight',
  'qualityLimitationReason', 'active'];
const REMOTE_INBOUND_FIELDS = ['packetsLost', 'fractionLost', 'jitter', 'roundTripTime'];
const INBOUND_FIELDS = ['bytesReceived', 'packetsReceived', 'packetsLost', 'jitter', 'framesPerSecond',
  'frameWidth', 'frameHeight', 'framesDecoded', 'freezeCount', 'totalFreezesDuration', 'audioLevel'];

/**
 * @param {RTCPeerConnection} pc
 * @param {{id: string, path: 'mesh'|'publish'|'subscribe'|'bridge',
 *          peerOfMid?: (mid: string) => string|null|undefined}} o
 *   peerOfMid: whose media a receiving transceiver carries (the mesh peer; the SFU feed's peer;
 *   null or undefined for the AudioBridge mix, which then has no `peer`)
 */
export async function sampleConnection(pc, o) {
  const report = await pc.getStats();
  return connectionFromStats(report, { ...o, capture: captureSettings(pc) });
}

/** mid -> the sent video track's settings ({frameRate, width, height}), for senders with one. */
function captureSettings(pc) {
  const capture = new Map();
  for (const t of pc.getTransceivers?.() ?? []) {
    const track = t.sender?.track;
    if (t.mid != null && track?.kind === 'video' && track.readyState === 'live') capture.set(String(t.mid), track.getSettings?.() ?? {});
  }
  return capture;
}

/**
 * The pure half of sampleConnection: `report` is an RTCStatsReport, a Map of them, or an array
 * of stats objects (a recorded report); `capture`: mid -> the sent track's getSettings().
 */
export function connectionFromStats(report, { id, path, peerOfMid = () => undefined, capture = new Map() }) {
  const rows = Array.isArray(report) ? report : [...report.values()];
  const byId = new Map(rows.map((s) => [s.id, s]));
  const conn = { id, path, outbound: [], remoteInbound: [], inbound: [] };

  const pair = selectedPair(rows, byId);
  if (pair) conn.pair = pick(pair, PAIR_FIELDS);

  for (const s of rows) {
    if (s.type === 'outbound-rtp' && s.mid !== undefined) {
      const out = { mid: s.mid, kind: s.kind, ...ridOf(s), ...pick(s, OUTBOUND_FIELDS) };
      const source = s.mediaSourceId ? byId.get(s.mediaSourceId) : undefined;
      if (s.kind === 'video') {
        const settings = capture.get(String(s.mid));
        copy(out, 'sourceWidth', source?.width ?? settings?.width);
        copy(out, 'sourceHeight', source?.height ?? settings?.height);
        copy(out, 'sourceFramesPerSecond', settings?.frameRate ?? source?.framesPerSecond);
      }
      conn.outbound.push(out);
    } else if (s.type === 'remote-inbound-rtp') {
      // What the receiver reports about one of our encodings (RTCP receiver reports).
      const local = s.localId ? byId.get(s.localId) : undefined;
      if (!local || local.type !== 'outbound-rtp' || local.mid === undefined) continue;
      conn.remoteInbound.push({ mid: local.mid, kind: local.kind, ...ridOf(local), ...pick(s, REMOTE_INBOUND_FIELDS) });
    } else if (s.type === 'inbound-rtp' && s.mid !== undefined) {
      const peer = peerOfMid(String(s.mid));
      conn.inbound.push({ ...(peer != null ? { peer } : {}), mid: s.mid, kind: s.kind, ...pick(s, INBOUND_FIELDS) });
    }
  }
  return conn;
}

/** The transport's selected candidate pair; else a nominated one that succeeded. */
function selectedPair(rows, byId) {
  for (const s of rows) {
    if (s.type !== 'transport' || !s.selectedCandidatePairId) continue;
    const pair = byId.get(s.selectedCandidatePairId);
    if (pair) return pair;
  }
  return rows.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') ?? null;
}

function ridOf(s) {
  return s.rid !== undefined ? { rid: s.rid } : {};
}

function pick(s, fields) {
  const out = {};
  for (const f of fields) copy(out, f, s[f]);
  return out;
}

function copy(out, field, value) {
  if (value !== undefined) out[field] = value;
}
