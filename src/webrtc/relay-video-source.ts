// Viewers' video upstream in relay mode: the master has one upstream connection, so it sees one viewer's camera at
// a time. The rule (docs/webrtc-relay.md): the video follows the audio floor — the viewer the master hears is the
// one it sees, once that viewer sends video; until someone has the floor, the first viewer sending video is shown;
// a source that has sent nothing for SOURCE_QUIET_MS (camera off) or left gives way to the next viewer sending.
// At a switch the new source's packets are held back until its next key frame (it is asked for one at once), so
// the master's decoder never gets a picture predicted from the previous viewer's; then they are spliced in.

import { beginsH264KeyFrame } from '../formats/rtp/h264-payload.js';
import { RtpSplice, type RtpPosition } from './rtp-splice.js';

/** A source silent this long has stopped sending video. */
export const SOURCE_QUIET_MS = 2000;
/** While waiting for the new source's key frame, ask again this often (a PLI can be lost). */
export const KEY_FRAME_RETRY_MS = 1000;
/** H.264 over RTP: 90 kHz clock; one frame at 30 fps. */
const VIDEO_CLOCK_RATE = 90_000;
const FRAME_TICKS = 3000;

export class VideoSource {
  readonly #requestKeyFrame: (viewerId: string) => void;
  readonly #splice = new RtpSplice(VIDEO_CLOCK_RATE, FRAME_TICKS);
  #source: string | null = null;
  #lastFromSourceMs = 0;
  #awaitingKeyFrameSinceMs: number | null = null;

  /** `requestKeyFrame` asks a viewer for a key frame (an RTCP PLI on its video). */
  constructor(requestKeyFrame: (viewerId: string) => void) {
    this.#requestKeyFrame = requestKeyFrame;
  }

  get source(): string | null {
    return this.#source;
  }

  /**
   * The position to forward this viewer's video packet at, or null when it is not shown (another viewer is, or
   * its key frame has not come yet). `floorHolder`: the viewer whose audio the master hears.
   */
  take(viewerId: string, p: RtpPosition & { payload: Uint8Array }, floorHolder: string | null, nowMs: number): RtpPosition | null {
    if (this.#source !== viewerId) {
      const free = this.#source === null || floorHolder === viewerId || nowMs - this.#lastFromSourceMs > SOURCE_QUIET_MS;
      if (!free) {
        return null;
      }
      this.#source = viewerId;
      this.#awaitingKeyFrameSinceMs = nowMs;
      this.#requestKeyFrame(viewerId);
    }
    this.#lastFromSourceMs = nowMs;
    if (this.#awaitingKeyFrameSinceMs !== null) {
      if (!beginsH264KeyFrame(p.payload)) {
        if (nowMs - this.#awaitingKeyFrameSinceMs >= KEY_FRAME_RETRY_MS) {
          this.#awaitingKeyFrameSinceMs = nowMs;
          this.#requestKeyFrame(viewerId);
        }
        return null;
      }
      this.#awaitingKeyFrameSinceMs = null;
      this.#splice.switchTo(p, nowMs);
    }
    return this.#splice.map(p, nowMs);
  }

  /** The master asked for a key frame: the viewer it sees is asked. */
  keyFrameRequested(): void {
    if (this.#source !== null) {
      this.#requestKeyFrame(this.#source);
    }
  }

  /** A viewer left: if it was shown, the next viewer sending video is. */
  release(viewerId: string): void {
    if (this.#source === viewerId) {
      this.#source = null;
    }
  }
}
