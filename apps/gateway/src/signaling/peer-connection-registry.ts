import type { PeerSession } from './peer-session';

/** The welcomed sessions on this gateway instance, by peer ID. */
export class PeerConnectionRegistry {
  private readonly sessions = new Map<string, PeerSession>();

  get size(): number {
    return this.sessions.size;
  }

  /** Adds `session` under its peer ID; returns the session it replaced (a resume), if any. */
  add(peerId: string, session: PeerSession): PeerSession | undefined {
    const previous = this.sessions.get(peerId);
    this.sessions.set(peerId, session);
    return previous === session ? undefined : previous;
  }

  get(peerId: string): PeerSession | undefined {
    return this.sessions.get(peerId);
  }

  /** Removes `peerId` only while it still maps to `session` (a resumed session replaced it otherwise). */
  remove(peerId: string, session: PeerSession): void {
    if (this.sessions.get(peerId) === session) this.sessions.delete(peerId);
  }

  all(): PeerSession[] {
    return [...this.sessions.values()];
  }
}
