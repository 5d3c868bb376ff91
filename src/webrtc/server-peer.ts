// werift's RTCPeerConnection with its transports accounted for. werift gathers one ICE transport (a UDP socket per
// host address) for each m-line it creates; when the remote description turns out to be BUNDLEd, it points the
// other m-lines at the first transport and simply forgets theirs — neither setRemoteDescription nor close() stops
// them, so every such peer leaked its sockets (and kept a shut-down server's event loop alive). This subclass stops
// a transport as soon as no m-line uses it after a remote description (where werift bundles), and every
// transport it ever saw on close().

import { RTCPeerConnection, type RTCSessionDescriptionInit } from 'werift';

type Transport = RTCPeerConnection['dtlsTransports'][number];

export class ServerPeerConnection extends RTCPeerConnection {
  readonly #seen = new Set<Transport>();

  override async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.#remember();
    await super.setRemoteDescription(description);
    this.#sweep();
  }

  override async close(): Promise<void> {
    this.#remember();
    await super.close();
    await Promise.allSettled([...this.#seen].map((t) => t.stop()));
    this.#seen.clear();
  }

  #remember(): void {
    for (const t of this.dtlsTransports) {
      this.#seen.add(t);
    }
  }

  /** Stops the transports no m-line uses any more. */
  #sweep(): void {
    const inUse = new Set(this.dtlsTransports);
    for (const t of this.#seen) {
      if (!inUse.has(t)) {
        this.#seen.delete(t);
        void t.stop().catch(() => undefined);
      }
    }
    this.#remember();
  }
}
