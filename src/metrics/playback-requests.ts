import type { NextFunction, Request, Response } from 'express';
import type { Counter } from 'prom-client';

// Requests on streaming-session URLs, counted as their responses finish. The URLs carry only a session token, so
// these counts are per protocol and kind, not per stream (sessions are counted per stream when they are made).

const KINDS: Record<string, string> = {
  'getHLSMasterPlaylist.m3u8': 'master_playlist',
  'getHLSMediaPlaylist.m3u8': 'media_playlist',
  'getMP4InitFragment.mp4': 'init_fragment',
  'getMP4MediaFragment.mp4': 'media_fragment',
  'getTSFragment.ts': 'ts_fragment',
  'getDASHManifest.mpd': 'manifest',
};

export function countPlaybackRequests(counter: Counter): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const m = /^\/(hls|dash)\/v1\/([^/]+)$/.exec(req.path);
    const kind = m?.[2] === undefined ? undefined : KINDS[m[2]];
    if (m?.[1] !== undefined && kind !== undefined) {
      const protocol = m[1];
      res.once('finish', () => counter.inc({ protocol, kind, status: String(res.statusCode) }));
    }
    next();
  };
}
