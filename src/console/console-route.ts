import express, { type Router } from 'express';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ConsoleOptions = {
  /** Region the login form suggests; any region signs correctly, this one matches the server's ARNs. */
  region: string;
  /** Where index.html and the scripts live; found next to this file (src/) or from dist/ otherwise. */
  assetsDir?: string;
};

// The console's page and scripts hold no data at all: every stream name, fragment and playlist reaches the page
// only through SigV4-signed KVS API calls the page makes with the credentials typed into it. That is why these
// files can be served without a signature while the API stays closed to anyone without credentials.
const SECURITY_HEADERS: Record<string, string> = {
  // The secret key sits in sessionStorage; no inline or foreign script may run next to it. connect-src stays open
  // because a publicUrl may point playback at another host.
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; connect-src *; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/** Where the console is served. */
export const CONSOLE_PATH = '/console';

/** The web console under /console (mount the router at the root): static files plus hls.js from node_modules. */
export function consoleRouter(options: ConsoleOptions): Router {
  const outer = express.Router();
  const router = express.Router();
  outer.use(CONSOLE_PATH, router);
  const assetsDir = options.assetsDir ?? findAssetsDir();
  const hlsJs = resolveHlsJs();

  router.use((_req, res, next) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      res.setHeader(name, value);
    }
    next();
  });

  // Relative asset URLs in index.html need the trailing slash.
  router.get('/', (req, res, next) => {
    const url = new URL(req.originalUrl, 'http://x');
    if (!url.pathname.endsWith('/')) {
      res.redirect(301, `${url.pathname}/${url.search}`);
      return;
    }
    next();
  });

  router.get('/config.json', (_req, res) => {
    res.json({ region: options.region });
  });

  if (hlsJs !== null) {
    router.get('/vendor/hls.min.js', (_req, res) => {
      res.type('text/javascript').sendFile(hlsJs);
    });
  }

  if (assetsDir === null) {
    router.use((_req, res) => {
      res
        .status(404)
        .type('text/plain')
        .send('The console files (src/console/assets) are not installed next to this server.\n');
    });
    return outer;
  }
  router.use(express.static(assetsDir, { index: 'index.html', redirect: false, dotfiles: 'ignore', etag: true, lastModified: true }));
  return outer;
}

/**
 * tsc copies no non-TS files, so from dist/console the assets are still read from src/console/assets in the
 * package root (package.json "files" ships them).
 */
function findAssetsDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'assets'), resolve(here, '../../src/console/assets')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? null;
}

function resolveHlsJs(): string | null {
  try {
    return createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
  } catch {
    return null;
  }
}
