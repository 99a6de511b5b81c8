// The walkie's service worker: the app shell, the library modules it imports and the two wasm
// modules are cached at install, so the app opens (and replays recent messages) offline.
// Requests go to the network first (a library demo should never show stale code while the
// server is up) and fall back to the cache; every good answer refreshes the cache.
//
// The module list is not written out by hand: install starts from the roots below and follows
// every static import, import('...') and new URL('...', import.meta.url) in the JavaScript it
// fetches, so a new file in js-glue/ is cached without touching this one.
const CACHE = 'chorus-walkie-v2';
const ROOTS = [
  './', 'app.js', '/web/palette.css', 'walkie.css', 'manifest.webmanifest',
  'icons/icon-192.png', 'icons/icon-512.png', 'icons/icon-maskable-512.png',
  // Loaded by URL rather than imported: the AudioWorklet module and the lazily imported codec.
  '/js-glue/voice/worklet.js', '/dist/chorus-opus.mjs',
];
// Only these paths are the app's; anything else (other demos) is left alone.
const OWN = ['/web/walkie/', '/web/palette.css', '/js-glue/', '/dist/'];
// Module specifiers count when relative ('./x.js', '../x.js', '/x.js'; a bare name is a
// package); a new URL(..., import.meta.url) is relative unless it has a scheme.
const IMPORTS = [
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/g,
  /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
  /\bimport\s*(['"])([^'"]+)\1/g,
];
const URLS = /\bnew\s+URL\(\s*(['"])([^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;

function references(text) {
  const out = [];
  for (const re of IMPORTS) for (const m of text.matchAll(re)) if (/^\.{0,2}\//.test(m[2])) out.push(m[2]);
  for (const m of text.matchAll(URLS)) if (!/^[a-z][a-z0-9+.-]*:/i.test(m[2])) out.push(m[2]);
  return out;
}

const isOwn = (url) => url.origin === location.origin && OWN.some((p) => url.pathname.startsWith(p));

async function precache() {
  const cache = await caches.open(CACHE);
  const queue = ROOTS.map((r) => new URL(r, location.href));
  const seen = new Set();
  while (queue.length) {
    const url = queue.shift();
    if (seen.has(url.href) || !isOwn(url)) continue;
    seen.add(url.href);
    // no-cache: revalidate with the server rather than trust the HTTP cache at install.
    const res = await fetch(url, { cache: 'no-cache' });
    if (!res.ok) throw new Error(`precache: ${url.pathname} answered ${res.status}`);
    if (/\.m?js$/.test(url.pathname)) {
      for (const ref of references(await res.clone().text())) queue.push(new URL(ref, url));
    }
    await cache.put(url, res);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    // Only our own older caches: the origin's other demos may keep theirs.
    for (const key of await caches.keys()) {
      if (key.startsWith('chorus-walkie-') && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();  // the page that installed us works offline without a reload
  })());
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || !isOwn(url)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // Every navigation (whatever its ?room=&name=) is the one app shell: one entry.
    const key = request.mode === 'navigate' ? './' : request;
    try {
      const res = await fetch(request);
      // Stored off the response path; a failed write (quota) must not fail the page.
      if (res.ok) event.waitUntil(cache.put(key, res.clone()).catch(() => {}));
      return res;
    } catch (err) {
      const hit = await cache.match(key);
      if (hit) return hit;
      throw err;
    }
  })());
});
