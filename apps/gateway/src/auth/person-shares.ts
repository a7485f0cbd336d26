import type { Logger } from '@ephemeral/logging';

import type { PresenceClient } from '../presence/presence-client';

/**
 * How many shares a person hosts on the other gateways, for
 * AUTH_MAX_SHARES_PER_PERSON across gateways (ADR 0023 §5, ADR 0029).
 */
export interface PersonShares {
  /**
   * Sharing leases `subject` holds on gateways other than this one, not
   * counting `exceptPeerId` (the page resuming its own share); undefined
   * when presence cannot say (the caller then counts this gateway only).
   */
  elsewhere(subject: string, exceptPeerId: string): Promise<number | undefined>;
}

/**
 * From presence's ListBySubject. This gateway's own shares are left out:
 * it counts its sockets itself, including those whose Register is still on
 * its way. Two gateways admitting the same person's shares at the same
 * instant can each see one fewer than the other will hold: the limit is
 * checked, not reserved.
 */
export function presencePersonShares(
  presence: PresenceClient,
  gatewayId: string,
  logger: Logger,
): PersonShares {
  return {
    async elsewhere(subject, exceptPeerId) {
      try {
        const { peers } = await presence.listBySubject(subject);
        return peers.filter(
          ({ lease, sharing }) =>
            sharing && lease && lease.gatewayId !== gatewayId && lease.peerId !== exceptPeerId,
        ).length;
      } catch (error) {
        logger.warn(
          { err: error, subject },
          "per-person share limit: presence did not answer ListBySubject; counting this gateway's shares only",
        );
        return undefined;
      }
    },
  };
}
