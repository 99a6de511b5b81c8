// Init script for the join-latency bench, added to every bench page (chorus and raw alike)
// before the page's own scripts, so both are measured by the same code.
//
// For every RTCPeerConnection the page creates it records, as absolute times (ms since the
// epoch, performance.timeOrigin + performance.now(), comparable across pages of one machine):
//   - when each of its DataChannels reached 'open'
//   - when the first remote video frame was decoded and presented (requestVideoFrameCallback
//     on a detached muted <video> per remote video track, made by this probe in both cases)
// window.__bench.summary() gives {pcs: [{dcOpen, firstFrame, state}], start}.
(() => {
  if (window.__bench) return;
  const now = () => performance.timeOrigin + performance.now();
  const b = window.__bench = { pcs: [], start: null, marks: [] };
  // A coarse timeline for --verbose breakdowns: signaling socket and negotiation steps.
  const mark = (what) => { if (b.marks.length < 200) b.marks.push({ what, t: now() }); };
  const NativeWS = window.WebSocket;
  const WS = function WebSocket(...args) {
    const ws = new NativeWS(...args);
    mark('ws-new');
    ws.addEventListener('open', () => mark('ws-open'));
    let first = true;
    ws.addEventListener('message', (e) => {
      if (first) { first = false; mark('ws-first-message'); }
      if (typeof e.data === 'string' && e.data.includes('"offer"')) mark('offer-received');
      if (typeof e.data === 'string' && e.data.includes('"answer"')) mark('answer-received');
    });
    const send = ws.send;
    ws.send = function (data) {
      if (typeof data === 'string' && data.includes('"join"')) mark('join-sent');
      if (typeof data === 'string' && data.includes('"offer"')) mark('offer-sent');
      if (typeof data === 'string' && data.includes('"answer"')) mark('answer-sent');
      return send.apply(this, arguments);
    };
    return ws;
  };
  WS.prototype = NativeWS.prototype;
  Object.setPrototypeOf(WS, NativeWS);
  window.WebSocket = WS;
  if (navigator.mediaDevices) {
    const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = (c) => { mark('gum-start'); return gum(c).then((s) => { mark('gum-done'); return s; }); };
  }
  const Native = window.RTCPeerConnection;
  const Wrapped = function RTCPeerConnection(...args) {
    const pc = new Native(...args);
    mark('pc-new');
    pc.addEventListener('connectionstatechange', () => mark(`pc-${pc.connectionState}`));
    for (const op of ['setLocalDescription', 'setRemoteDescription', 'addIceCandidate', 'addTrack']) {
      const orig = pc[op];
      const short = { setLocalDescription: 'SLD', setRemoteDescription: 'SRD', addIceCandidate: 'cand', addTrack: 'addTrack' }[op];
      pc[op] = function (arg) {
        const type = op.endsWith('Description') ? `(${(arg && arg.type) || ''})` : '';
        if (op !== 'addIceCandidate' || b.verboseCandidates) mark(`${short}${type}`);
        const r = orig.apply(this, arguments);
        if (r && r.then && op.endsWith('Description')) r.then(() => mark(`${short}${type}-done`), () => mark(`${short}${type}-failed`));
        return r;
      };
    }
    pc.addEventListener('icecandidate', (e) => { if (!e.candidate) mark('gathering-done'); });
    const rec = { pc, channels: [], dcOpen: null, firstFrame: null };
    b.pcs.push(rec);
    const watch = (dc) => {
      rec.channels.push(dc);
      const open = () => {
        if (rec.channels.every((c) => c.readyState === 'open') && rec.dcOpen === null) { rec.dcOpen = now(); mark('dc-open'); }
      };
      dc.addEventListener('open', open);
      open();
    };
    const createDataChannel = pc.createDataChannel;
    pc.createDataChannel = function () {
      const dc = createDataChannel.apply(this, arguments);
      watch(dc);
      return dc;
    };
    pc.addEventListener('datachannel', (e) => watch(e.channel));
    // First remote video frame: a detached, muted <video> per remote video track, and the
    // first requestVideoFrameCallback's presentationTime (the frame was decoded and handed to
    // the compositor).
    pc.addEventListener('track', (e) => {
      if (e.track.kind !== 'video') return;
      const v = document.createElement('video');
      v.muted = true;
      v.autoplay = true;
      v.playsInline = true;
      v.srcObject = new MediaStream([e.track]);
      v.requestVideoFrameCallback((t, meta) => {
        if (rec.firstFrame === null) { rec.firstFrame = performance.timeOrigin + (meta.presentationTime || t); mark('first-frame'); }
      });
      v.play().catch(() => {});
      rec.videos = (rec.videos || []).concat(v);
    });
    return pc;
  };
  Wrapped.prototype = Native.prototype;
  Object.setPrototypeOf(Wrapped, Native);
  window.RTCPeerConnection = Wrapped;

  b.markStart = () => { b.start = now(); };
  b.summary = () => ({
    start: b.start,
    wsOpen: (b.marks.find((m) => m.what === 'ws-open') || {}).t ?? null,
    marks: b.marks.map((m) => `${m.what}@${Math.round(m.t - (b.start ?? m.t))}`).join(' '),
    pcs: b.pcs.filter((r) => r.pc.connectionState !== 'closed')
      .map((r) => ({ dcOpen: r.dcOpen, firstFrame: r.firstFrame, state: r.pc.connectionState })),
  });
})();
