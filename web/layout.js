// Picks the tile size for the video grid: the column count that makes n equal tiles as large as
// possible inside the grid. Landscape tiles on wide screens, portrait tiles on tall phones, unless
// `aspect` (width / height) fixes it (the classroom's main view: screens are landscape).

export function fitTiles(grid, n, { aspect: fixed } = {}) {
  if (n === 0) return;
  const style = getComputedStyle(grid);
  const gap = parseFloat(style.columnGap) || 0;
  const width = grid.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const height = grid.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  if (width <= 0 || height <= 0) return;
  const aspect = fixed ?? (height > width * 1.2 ? 3 / 4 : 16 / 9);
  let best = 0;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const w = Math.min((width - gap * (cols - 1)) / cols, ((height - gap * (rows - 1)) / rows) * aspect);
    best = Math.max(best, w);
  }
  grid.style.setProperty('--tile-w', `${Math.floor(best) - 1}px`);
  grid.style.setProperty('--tile-aspect', String(aspect));
}
