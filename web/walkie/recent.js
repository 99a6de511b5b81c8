// The list of recent voice messages, rendered from the store and kept in place (keyed by id)
// so a message that is growing or playing is updated, not rebuilt.
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function formatDuration(ms) {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

export class RecentList {
  #list; #empty; #template; #items = new Map();

  /** @param {{list: HTMLOListElement, empty: HTMLElement, template: HTMLTemplateElement,
   *          onToggle: (id: number) => void}} o */
  constructor({ list, empty, template, onToggle }) {
    this.#list = list;
    this.#empty = empty;
    this.#template = template;
    list.addEventListener('click', (e) => {
      const li = e.target.closest('.msg-play')?.closest('li[data-id]');
      if (li) onToggle(Number(li.dataset.id));
    });
  }

  /** @param {Array<{id, channel, talker, start, duration, packetCount, done}>} messages newest first */
  render(messages) {
    const keep = new Set(messages.map((m) => m.id));
    for (const [id, li] of this.#items) if (!keep.has(id)) { li.remove(); this.#items.delete(id); }
    let before = this.#list.firstElementChild;
    for (const m of messages) {
      let li = this.#items.get(m.id);
      if (!li) {
        li = this.#template.content.firstElementChild.cloneNode(true);
        li.dataset.id = m.id;
        this.#items.set(m.id, li);
      }
      if (li !== before) this.#list.insertBefore(li, before);
      before = li.nextElementSibling;
      this.#fill(li, m);
    }
    this.#empty.hidden = messages.length > 0;
  }

  #fill(li, m) {
    const talker = m.talker || 'Unnamed';
    li.querySelector('.msg-who').textContent = talker;
    li.querySelector('.msg-initial').textContent = talker.trim().charAt(0).toUpperCase() || '?';
    li.querySelector('.msg-channel').textContent = m.channel;
    const time = li.querySelector('.msg-time');
    time.textContent = timeFmt.format(m.start);
    time.dateTime = new Date(m.start).toISOString();
    li.querySelector('.msg-duration').textContent = formatDuration(m.duration);
    li.dataset.packets = m.packetCount;
    li.dataset.live = String(!m.done);
    li.querySelector('.msg-play').setAttribute('aria-label', `Play message from ${talker}, ${formatDuration(m.duration)}`);
  }

  setPlaying(id, playing) {
    const li = this.#items.get(id);
    if (!li) return;
    li.dataset.state = playing ? 'playing' : 'idle';
    const btn = li.querySelector('.msg-play');
    btn.setAttribute('aria-pressed', String(playing));
    btn.title = playing ? 'Stop' : 'Play';
    if (!playing) this.setProgress(id, 0);
  }

  setProgress(id, fraction) {
    this.#items.get(id)?.style.setProperty('--progress', fraction.toFixed(4));
  }
}
