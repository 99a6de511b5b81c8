// Renders the walkie PWA's icons (web/walkie/icons/*.png) from one SVG in headless Chromium:
//   node tools/walkie/icons.mjs
// "any" icons are a rounded square with transparent corners; the maskable one fills the whole
// square and keeps its drawing inside the central 80% circle that every mask leaves visible.
import { chromium } from 'playwright-core';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'web/walkie/icons');

function svg({ maskable }) {
  // Drawn on a 512 grid; the maskable variant shrinks the drawing towards the centre.
  const scale = maskable ? 0.82 : 1;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512">
  <defs>
    <radialGradient id="disc" cx="38%" cy="32%" r="75%">
      <stop offset="0" stop-color="#8aa2ff"/><stop offset="1" stop-color="#4d6bf0"/>
    </radialGradient>
  </defs>
  <rect width="512" height="512" rx="${maskable ? 0 : 112}" fill="#0f1115"/>
  <g transform="translate(256 256) scale(${scale}) translate(-256 -256)">
    <circle cx="256" cy="256" r="196" fill="url(#disc)"/>
    <!-- the radio: antenna, body, screen, speaker grille, talk key -->
    <rect x="268" y="92" width="22" height="86" rx="11" fill="#fff"/>
    <rect x="176" y="160" width="138" height="236" rx="30" fill="#fff"/>
    <rect x="198" y="186" width="94" height="52" rx="10" fill="#1f232c"/>
    <rect x="210" y="200" width="40" height="8" rx="4" fill="#3ecf8e"/>
    <g fill="#4d6bf0">
      <rect x="204" y="262" width="82" height="12" rx="6"/>
      <rect x="204" y="288" width="82" height="12" rx="6"/>
      <rect x="204" y="314" width="82" height="12" rx="6"/>
    </g>
    <rect x="224" y="346" width="42" height="24" rx="12" fill="#ff5d5d"/>
    <!-- its voice -->
    <g fill="none" stroke="#fff" stroke-width="20" stroke-linecap="round">
      <path d="M346 226 a56 56 0 0 1 0 84"/>
      <path d="M374 192 a100 100 0 0 1 0 152" opacity=".75"/>
    </g>
  </g>
</svg>`;
}

const browser = await chromium.launch({ executablePath: process.env.CHORUS_CHROMIUM || '/usr/lib/chromium/chromium', args: ['--no-sandbox', '--headless=new'] });
try {
  const page = await browser.newPage();
  for (const [file, size, maskable] of [['icon-192.png', 192, false], ['icon-512.png', 512, false], ['icon-maskable-512.png', 512, true]]) {
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(`<body style="margin:0;background:transparent">${svg({ maskable }).replace('width="512" height="512"', `width="${size}" height="${size}"`)}</body>`);
    await page.screenshot({ path: path.join(OUT, file), omitBackground: true });
    console.log(`wrote web/walkie/icons/${file}`);
  }
} finally {
  await browser.close();
}
