// One video tile: a camera or a screen share of one participant, shown big (main view) or as a
// thumbnail. Tiles are video only and always muted: sound plays through one <audio> per peer
// (app.js), so moving a tile between the main view and the strip never cuts anyone off.

const template = document.getElementById('tile-template');
const ROLE_NAMES = { teacher: 'Teacher', student: 'Student' };

export class Tile {
  /**
   * @param {{key: string, peerId: string|null, kind: 'camera'|'screen', local: boolean}} source
   */
  constructor({ key, peerId, kind, local }) {
    this.key = key;
    this.el = template.content.firstElementChild.cloneNode(true);
    this.video = this.el.querySelector('video');
    this.video.muted = true;
    this.track = null;
    this.detachView = null; // Room.attachView's undo, for remote cameras (app.js)
    this.el.dataset.key = key;
    this.el.dataset.kind = kind;
    if (peerId) this.el.dataset.peerId = peerId;
    if (local) this.el.dataset.local = '';
  }

  /**
   * @param {{name: string, role: string, track: MediaStreamTrack|null, camera: boolean,
   *   mic: boolean, hand: boolean, promoted: boolean, speaking: boolean, quality: number|null}} s
   */
  update(s) {
    const { el } = this;
    const label = s.kind === 'screen' ? `${s.name}'s screen` : s.name;
    el.querySelector('.tile-name').textContent = label;
    el.querySelector('.tile-role').textContent = s.kind === 'screen' ? '' : s.promoted ? 'May speak' : ROLE_NAMES[s.role] ?? s.role;
    el.querySelector('.avatar').dataset.initials = initials(s.name);
    const mute = s.kind === 'camera' && !s.mic ? ', muted' : '';
    el.setAttribute('aria-label', `${label}${mute}${s.hand ? ', hand raised' : ''}${s.speaking ? ', speaking' : ''}`);
    el.dataset.role = s.role;
    el.dataset.video = s.track && s.track.readyState === 'live' && s.camera ? 'on' : 'off';
    el.dataset.mic = s.mic ? 'on' : 'off';
    el.toggleAttribute('data-hand', s.hand);
    el.toggleAttribute('data-promoted', s.promoted);
    el.toggleAttribute('data-speaking', s.speaking);
    // Room 'quality' score (0-5) of a remote participant, or null: no indicator.
    const q = el.querySelector('.tile-quality');
    q.hidden = s.quality == null;
    if (s.quality == null) delete el.dataset.quality;
    else {
      el.dataset.quality = s.quality >= 3.5 ? 'good' : s.quality >= 2 ? 'fair' : 'poor';
      q.title = `Connection quality ${s.quality.toFixed(1)} of 5`;
    }
    if (s.track !== this.track) {
      this.track = s.track;
      this.video.srcObject = s.track ? new MediaStream([s.track]) : null;
    }
    if (this.video.srcObject && this.video.paused) this.video.play().catch(() => {});
  }

  /** Puts the tile into `parent` at position `index` (keeps playing: a move is not a removal). */
  place(parent, index, where) {
    this.el.dataset.place = where;
    const at = parent.children[index] ?? null;
    if (at !== this.el) parent.insertBefore(this.el, at);
    if (this.video.srcObject && this.video.paused) this.video.play().catch(() => {});
  }

  remove() {
    this.detachView?.();
    this.detachView = null;
    this.video.srcObject = null;
    this.el.remove();
  }
}

export function initials(name) {
  return name.trim().split(/\s+/).slice(0, 2).map((w) => w[0]?.toUpperCase() ?? '').join('') || '?';
}
