/* global document, setInterval, clearInterval */
// Playback of a KVS HLS session URL with hls.js (loaded on first use: it is most of the console's bytes).

let hlsLoading = null;

function loadHls() {
  if (globalThis.Hls !== undefined) {
    return Promise.resolve(globalThis.Hls);
  }
  hlsLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = 'vendor/hls.min.js';
    script.onload = () => resolve(globalThis.Hls);
    script.onerror = () => {
      hlsLoading = null;
      script.remove();
      reject(new Error('hls.js could not be loaded from vendor/hls.min.js.'));
    };
    document.head.append(script);
  });
  return hlsLoading;
}

/** A fatal hls.js error in words, with the KVS error the server sent when there was one. */
function describeHlsError(data) {
  const parts = [`${data.type}: ${data.details}`];
  const code = data.response?.code;
  if (code !== undefined && code !== 0) {
    parts.push(`HTTP ${code}`);
  }
  let body = '';
  try {
    // The xhr loader keeps the request; playlists are text, so a KVS error body can be read back.
    body = typeof data.networkDetails?.responseText === 'string' ? data.networkDetails.responseText : '';
  } catch {
    body = '';
  }
  try {
    const err = JSON.parse(body);
    if (err.__type !== undefined || err.message !== undefined) {
      parts.push(`${err.__type ?? 'Error'}: ${err.message ?? err.Message ?? ''}`);
    }
  } catch {
    // not a JSON error body
  }
  if (data.error?.message && parts.length === 1) {
    parts.push(data.error.message);
  }
  return parts.join(' — ');
}

export class Player {
  /**
   * @param {HTMLVideoElement} video
   * @param {{ status: (text: string, state: string, latency?: number) => void, error: (text: string) => void }} ui
   */
  constructor(video, ui) {
    this.video = video;
    this.ui = ui;
    this.hls = null;
    this.ticker = null;
    this.live = false;
    video.addEventListener('ended', () => {
      this.ui.status(`Ended at ${video.currentTime.toFixed(1)} s.`, 'ended');
    });
    video.addEventListener('error', () => {
      if (this.hls === null && video.error !== null) {
        this.ui.error(`The video element failed: ${video.error.message || `code ${video.error.code}`}`);
      }
    });
  }

  /** Play an HLS session URL; live decides how the status line reads. */
  async play(url, { live }) {
    this.stop();
    this.live = live;
    const video = this.video;
    const Hls = await loadHls();
    if (Hls.isSupported()) {
      const hls = new Hls({
        enableWorker: true,
        lowLatencyMode: false,
        // hls.js's default (6 retries, 1 → 8 s apart) shows a spinner for half a minute before saying that segments
        // fail; from one openkvs server a failing segment is rarely a blip, so say so after ~5 s.
        fragLoadPolicy: {
          default: {
            maxTimeToFirstByteMs: 10_000,
            maxLoadTimeMs: 120_000,
            timeoutRetry: { maxNumRetry: 4, retryDelayMs: 0, maxRetryDelayMs: 0 },
            errorRetry: { maxNumRetry: 4, retryDelayMs: 500, maxRetryDelayMs: 2000 },
          },
        },
      });
      this.hls = hls;
      let mediaRecoveries = 0;
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal || this.hls !== hls) {
          return;
        }
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries++ < 1) {
          hls.recoverMediaError();
          return;
        }
        this.ui.error(`Playback failed. ${describeHlsError(data)}`);
        this.stop('failed');
      });
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        video.play().catch((err) => this.#refused(err, () => this.hls === hls));
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl') !== '') {
      // Safari plays HLS itself and has no MSE on iPhones.
      video.src = url;
      video.play().catch((err) => this.#refused(err, () => this.hls === null && video.getAttribute('src') === url));
    } else {
      throw new Error('This browser can play neither HLS nor Media Source Extensions.');
    }
    this.ui.status(live ? 'LIVE: loading…' : 'Loading…', 'loading');
    this.ticker = setInterval(() => this.#tick(), 500);
  }

  /**
   * A play() that failed, unless this playback has been stopped since: stopping (after a fatal hls.js error, whose
   * message is already shown, or for a new playback) aborts a pending play(), and that is no news.
   */
  #refused(err, current) {
    if (current()) {
      this.ui.error(`The browser refused to play: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #tick() {
    const video = this.video;
    if (video.ended || (video.paused && video.currentTime === 0)) {
      return;
    }
    const at = `${video.currentTime.toFixed(1)} s`;
    if (this.live) {
      const latency = this.hls?.latency;
      const behind = typeof latency === 'number' && Number.isFinite(latency) ? latency : undefined;
      this.ui.status(behind === undefined ? `LIVE · ${at}` : `LIVE · ${at} · ${behind.toFixed(1)} s behind the live edge`, video.paused ? 'paused' : 'playing', behind);
    } else {
      const duration = Number.isFinite(video.duration) ? ` / ${video.duration.toFixed(1)} s` : '';
      this.ui.status(`${at}${duration}`, video.paused ? 'paused' : 'playing');
    }
  }

  stop(state = 'idle') {
    if (this.ticker !== null) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
    if (this.hls !== null) {
      const hls = this.hls;
      this.hls = null;
      hls.destroy();
    }
    if (this.video.getAttribute('src') !== null) {
      this.video.removeAttribute('src');
      this.video.load();
    }
    if (state === 'idle') {
      this.ui.status('Idle.', 'idle');
    } else {
      this.ui.status('Stopped.', state);
    }
  }
}
