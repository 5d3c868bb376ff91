import { Router, type Request, type Response } from 'express';
import { invalidArgument } from '../errors/codes.js';
import type { PlaybackService } from './playback-service.js';

const M3U8 = 'application/vnd.apple.mpegurl';
const MP4 = 'video/mp4';

/**
 * The URLs inside streaming sessions (kvs-api.md §4.1), fetched by players with plain GETs that carry only the
 * session token. Errors go through the app's one error handler, so they are KVS-shaped JSON like any other.
 * Any origin may fetch them (players live on other sites; the token is the credential).
 */
export function playbackRouter(service: PlaybackService): Router {
  const r = Router();
  r.use((_req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    next();
  });
  const token = (req: Request): string | undefined => param(req, 'SessionToken');
  const send = (res: Response, type: string, body: string | Uint8Array, live = true): void => {
    // Playlists change (LIVE); segments never do, but their session expires, so neither is cached for long.
    res.status(200).type(type).setHeader('Cache-Control', live ? 'no-cache' : 'private, max-age=300');
    res.end(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  };

  r.get('/hls/v1/getHLSMasterPlaylist.m3u8', (req, res) => send(res, M3U8, service.master(token(req))));
  r.get('/hls/v1/getHLSMediaPlaylist.m3u8', (req, res) => send(res, M3U8, service.media(token(req), trackNumber(req))));
  r.get(['/hls/v1/getMP4InitFragment.mp4', '/dash/v1/getMP4InitFragment.mp4'], async (req, res) =>
    send(res, MP4, await service.init(token(req), trackNumber(req), intParam(req, 'TrackInfoId')), false),
  );
  r.get(['/hls/v1/getMP4MediaFragment.mp4', '/dash/v1/getMP4MediaFragment.mp4'], async (req, res) =>
    send(res, MP4, await service.fragment(token(req), param(req, 'FragmentNumber'), trackNumber(req)), false),
  );
  r.get('/hls/v1/getTSFragment.ts', async (req, res) => send(res, 'video/MP2T', await service.tsFragment(token(req), param(req, 'FragmentNumber')), false));
  r.get('/dash/v1/getDASHManifest.mpd', (req, res) => send(res, 'application/dash+xml', service.dash(token(req))));
  return r;
}

function param(req: Request, name: string): string | undefined {
  const v = req.query[name];
  return typeof v === 'string' ? v : undefined;
}

function intParam(req: Request, name: string): number | undefined {
  const v = param(req, name);
  if (v === undefined) {
    return undefined;
  }
  if (!/^[0-9]{1,9}$/.test(v)) {
    throw invalidArgument(`${name} must be a positive integer.`);
  }
  return Number(v);
}

const trackNumber = (req: Request): number | undefined => intParam(req, 'TrackNumber');
