// Key-frame requests (RTCP PLI, RFC 4585 §6.3.1; FIR, RFC 5104 §4.3.1) for the video a werift transceiver sends.
// werift routes payload-specific feedback by its *sender* SSRC first: on a sendrecv m-line the other side usually
// reports from the SSRC of the video it sends us, which werift has registered for our receiver — so the request
// for our video reaches the receiver, not the sender. Both are watched; a request goes to exactly one of them.

import type { RTCRtpTransceiver, RtcpPacket } from 'werift';

const PSFB = 206;
const PLI_FMT = 1;
const FIR_FMT = 4;

type Feedback = { count?: number; mediaSsrc?: number };
const feedbackOf = (p: RtcpPacket): Feedback | undefined => (p.type === PSFB ? (p as { feedback?: Feedback }).feedback : undefined);

export function onKeyFrameRequest(t: RTCRtpTransceiver, request: () => void): void {
  t.sender.onPictureLossIndication.subscribe(request);
  t.sender.onRtcp.subscribe((p) => {
    if (feedbackOf(p)?.count === FIR_FMT) {
      request();
    }
  });
  t.receiver.onRtcp.subscribe((p) => {
    const fb = feedbackOf(p);
    // a PLI names the stream it is about; a FIR's media SSRC is unused (0), its entries name it, and on this
    // m-line only our sender's video can be meant
    if ((fb?.count === PLI_FMT && fb.mediaSsrc === t.sender.ssrc) || fb?.count === FIR_FMT) {
      request();
    }
  });
}
