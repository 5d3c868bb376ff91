import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

export type FfmpegBinary = { path: string; source: 'FFMPEG_PATH' | 'PATH' | 'npm' };

/**
 * The one place that decides which ffmpeg runs: `FFMPEG_PATH` when set, else the first `ffmpeg` on `PATH` (Debian's,
 * current and with every codec), else the static build shipped by @ffmpeg-installer/ffmpeg so that `npm install`
 * alone still decodes. Null when none is usable.
 */
export function findFfmpeg(env: NodeJS.ProcessEnv = process.env): FfmpegBinary | null {
  const explicit = env['FFMPEG_PATH'];
  if (explicit !== undefined && explicit !== '') {
    return executable(explicit) ? { path: explicit, source: 'FFMPEG_PATH' } : null;
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, 'ffmpeg');
    if (dir !== '' && executable(candidate)) {
      return { path: candidate, source: 'PATH' };
    }
  }
  try {
    const shipped = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    return executable(shipped) ? { path: shipped, source: 'npm' } : null;
  } catch {
    return null;
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
