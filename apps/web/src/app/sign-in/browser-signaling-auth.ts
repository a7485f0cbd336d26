import type { SignalingAuth } from '../signaling/signaling-client';

import { signInSession } from './sign-in-session';

/**
 * The page's sign-in for its gateway socket. The send page (`/`) hosts a
 * share; a receive page (`/s/<id>`) opens one. The send page says so when
 * sign-in is on or the gateway keeps an audit trail (docs/audit.md); with
 * neither, Hello stays as it always was. Read at each Hello, so a page
 * signed in meanwhile presents its token on the next (re)connect.
 */
export function browserSignalingAuth(): SignalingAuth {
  return {
    accessToken: () => signInSession.accessToken(),
    hostsShare: () =>
      (signInSession.enabled || signInSession.auditing) && !location.pathname.startsWith('/s/'),
    onAccessToken: (listener) => signInSession.onAccessToken(listener),
    signInRequired: (message) => signInSession.signInRequired(message),
    policyRefused: (message) => signInSession.refused.set(message),
  };
}
