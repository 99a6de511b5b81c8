// Press-and-hold input for the talk button: one pointer or the Space key (auto-repeat
// ignored). The pointer is captured, so its moves and its release are seen
// wherever they happen: lifting it anywhere, sliding it off the button (beyond a small slack
// for a wobbling thumb) or a cancel ends the hold. Calls onPress() once per hold and
// onRelease() once when it ends.
const SLACK_PX = 24;

export function holdToTalk(button, { onPress, onRelease }) {
  let holder = null;  // 'key' or a pointerId while held

  const start = (who) => {
    if (holder !== null || button.disabled) return false;
    holder = who;
    onPress();
    return true;
  };
  const end = (who) => {
    if (holder === null || holder !== who) return;
    holder = null;
    onRelease();
  };

  button.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();  // no text selection, no focus flicker, no emulated mouse events
    if (!start(e.pointerId)) return;
    button.setPointerCapture(e.pointerId);
  });
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
    button.addEventListener(type, (e) => end(e.pointerId));
  }
  button.addEventListener('pointermove', (e) => {
    if (holder !== e.pointerId) return;
    const r = button.getBoundingClientRect();
    const off = e.clientX < r.left - SLACK_PX || e.clientX > r.right + SLACK_PX
      || e.clientY < r.top - SLACK_PX || e.clientY > r.bottom + SLACK_PX;
    if (off) end(e.pointerId);
  });
  // Captured pointers get pointerleave only on release; one whose capture was refused gets it
  // on leaving the button.
  button.addEventListener('pointerleave', (e) => end(e.pointerId));
  // A long press on touch screens would open the context menu.
  button.addEventListener('contextmenu', (e) => e.preventDefault());

  // Space talks unless another control wants it (typing, ticking a box, pressing a button).
  const ownSpace = (el) => el !== button && el instanceof HTMLElement
    && (el.isContentEditable || el.matches('input:not([type=radio]), textarea, select, button, a[href]'));
  window.addEventListener('keydown', (e) => {
    if (e.code !== 'Space' || ownSpace(e.target)) return;
    e.preventDefault();  // no page scroll, no click on a focused button
    if (!e.repeat) start('key');
  });
  window.addEventListener('keyup', (e) => {
    if (e.code !== 'Space' || holder !== 'key') return;
    e.preventDefault();
    end('key');
  });
  // Switching away mid-hold never leaves the mic open.
  window.addEventListener('blur', () => end(holder));
  document.addEventListener('visibilitychange', () => { if (document.hidden) end(holder); });
}
