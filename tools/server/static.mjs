// Static file serving for the demo pages, on the same HTTP port as the signaling WebSocket.
//
//   /            -> web/index.html
//   /web/, /js-glue/, /dist/, /examples/  -> files under the package root
//   anything else -> 404
// (/healthz and /metrics are answered before this handler: metrics.mjs.)
//
// A path that would leave its folder (../, encoded or not, or a symlink pointing outside the
// package root) is a 404, never a file.

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export const MIME_TYPES = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.wav': 'audio/wav',
  '.y4m': 'video/x-yuv4mpeg',
});

/** The folders of the package root that are served, as URL prefixes. */
export const SERVED_PREFIXES = Object.freeze(['/web/', '/js-glue/', '/dist/', '/examples/']);

export function mimeTypeFor(filePath) {
  return MIME_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

function sendText(res, status, text, extraHeaders = {}) {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extraHeaders,
  });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

/**
 * Maps a URL path to a file path under root, or null when the URL is not one we serve or would
 * leave its folder. Pure (no file system access): tested on its own.
 */
export function resolveStaticPath(root, urlPath) {
  if (urlPath === '/' || urlPath === '/index.html') return path.join(root, 'web', 'index.html');
  const prefix = SERVED_PREFIXES.find((p) => urlPath.startsWith(p) || urlPath === p.slice(0, -1));
  if (!prefix) return null;
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  // Any '..' segment is refused outright rather than normalised away.
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  const base = path.resolve(root, prefix.slice(1, -1));
  const full = path.resolve(base, '.' + decoded.slice(prefix.length - 1));
  if (full !== base && !full.startsWith(base + path.sep)) return null;
  return full;
}

/**
 * Returns a request handler `(req, res) => void` serving the package root `root`.
 * Never throws: every failure is an HTTP status.
 */
export function createStaticHandler(root) {
  const realRootPromise = fsp.realpath(root).catch(() => path.resolve(root));

  return function handleStatic(req, res) {
    serve(req, res).catch((err) => {
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy(err);
    });
  };

  async function serve(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    let urlPath;
    try {
      urlPath = new URL(req.url, 'http://x').pathname;
    } catch {
      sendText(res, 400, 'bad request\n');
      return;
    }
    let file = resolveStaticPath(root, urlPath);
    if (!file) {
      sendText(res, 404, 'not found\n');
      return;
    }
    let stat;
    try {
      stat = await fsp.stat(file);
      if (stat.isDirectory()) {
        if (!urlPath.endsWith('/')) {
          // Relative URLs in an index.html need the trailing slash.
          const location = urlPath + '/' + (req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '');
          res.writeHead(301, { Location: location, 'Content-Length': 0 });
          res.end();
          return;
        }
        file = path.join(file, 'index.html');
        stat = await fsp.stat(file);
      }
      if (!stat.isFile()) throw new Error('not a file');
      // Symlinks must not lead outside the package root.
      const [real, realRoot] = await Promise.all([fsp.realpath(file), realRootPromise]);
      if (!real.startsWith(realRoot + path.sep)) throw new Error('outside root');
    } catch {
      sendText(res, 404, 'not found\n');
      return;
    }

    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers = {
      'Content-Type': mimeTypeFor(file),
      'Cache-Control': 'no-cache',
      ETag: etag,
      'Last-Modified': stat.mtime.toUTCString(),
      'X-Content-Type-Options': 'nosniff',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['Content-Length'] = stat.size;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = fs.createReadStream(file);
    stream.on('error', (err) => res.destroy(err));
    stream.pipe(res);
  }
}
