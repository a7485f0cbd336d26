import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import type { FailureCause } from '../transfer/receive/download-session';

/**
 * The receiver's "could not connect" screen, saying why in words a user can
 * act on: a relay that refused (the operator's problem, not the user's
 * network) reads differently from a network that lets no peer connection
 * through. `data-failure-cause` is what tests read.
 */
@Component({
  selector: 'es-connect-failure',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div data-testid="connect-failure" [attr.data-failure-cause]="cause() ?? 'unknown'">
      <h1 i18n="@@connectFailure.heading">Could not connect to the sender</h1>
      @switch (cause()) {
        @case ('relay-refused') {
          <p i18n="@@connectFailure.relayRefused">
            The server's relay refused the connection (it turned down its own credentials). This is
            a problem with the server's setup, not with your network: tell whoever runs this
            Ephemeral Share. Trying again later may work once it is fixed.
          </p>
        }
        @case ('gateway-unreachable') {
          <p i18n="@@connectFailure.gatewayUnreachable">
            The Ephemeral Share server could not be reached. Check your internet connection and
            reload the page.
          </p>
        }
        @case ('connection-lost') {
          <p i18n="@@connectFailure.connectionLost">
            A connection to the sender's browser was found but did not hold, even after several
            tries. Reload the page to try again; if it keeps happening, try another network.
          </p>
        }
        @default {
          <p i18n="@@connectFailure.noPath">
            No network path between the two browsers was found, even after several tries: the
            network you or the sender are on seems to block peer-to-peer connections (a firewall or
            a strict network), and no relay could help. Try another network, such as a phone's
            hotspot.
          </p>
        }
      }
    </div>
  `,
})
export class ConnectFailure {
  readonly cause = input<FailureCause | null>(null);
}
