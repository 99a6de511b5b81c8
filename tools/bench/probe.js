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
  const b = window.__bench = { pcs: [], start: null };
  const Native = window.RTCPeerConnection;
  const Wrapped = function RTCPeerConnection(...args) {
    const pc = new Native(...args);
    const rec = { pc, channels: [], dcOpen: null, firstFrame: null };
    b.pcs.push(rec);
    const watch = (dc) => {
      rec.channels.push(dc);
      const mark = () => { if (rec.channels.every((c) => c.readyState === 'open')) rec.dcOpen ??= now(); };
      dc.addEventListener('open', mark);
      mark();
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
        rec.firstFrame ??= performance.timeOrigin + (meta.presentationTime || t);
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
    pcs: b.pcs.filter((r) => r.pc.connectionState !== 'closed')
      .map((r) => ({ dcOpen: r.dcOpen, firstFrame: r.firstFrame, state: r.pc.connectionState })),
  });
})();
