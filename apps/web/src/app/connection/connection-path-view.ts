import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { ConnectionPath, PathKind } from '../transfer/rtc/connection-path';

const WORDS: Record<PathKind, string> = {
  direct: $localize`:@@connectionPath.direct:Direct connection`,
  'relay-udp': $localize`:@@connectionPath.relayUdp:Relayed through the server (UDP)`,
  'relay-tcp': $localize`:@@connectionPath.relayTcp:Relayed through the server (TCP)`,
  'relay-tls': $localize`:@@connectionPath.relayTls:Relayed through the server (TLS)`,
};

const HINTS: Record<PathKind, string> = {
  direct: $localize`:@@connectionPath.directHint:The files go straight between the two browsers.`,
  'relay-udp': $localize`:@@connectionPath.relayUdpHint:No direct path between the two networks, so the files go through the relay server; that can be slower.`,
  'relay-tcp': $localize`:@@connectionPath.relayTcpHint:This network blocks UDP, so the files go through the relay server over TCP; that is slower.`,
  'relay-tls': $localize`:@@connectionPath.relayTlsHint:This network only allows secure web traffic, so the files go through the relay server over TLS; that is slower.`,
};

/**
 * How one peer connection runs — direct or relayed (and over what), with
 * its measured round trip — so a user who sees a slow transfer knows why.
 * Tests read `data-path` and `data-rtt-ms` (docs/connection-quality in the
 * contracts): the attributes are the interface, the words are for people.
 */
@Component({
  selector: 'es-connection-path',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (path(); as p) {
      <span
        class="connection-path"
        data-testid="connection-path"
        [attr.data-path]="p.kind"
        [attr.data-rtt-ms]="p.rttMs"
        [attr.title]="hint()"
      >
        {{ words() }}
        @if (p.rttMs !== null) {
          <ng-container i18n="@@connectionPath.roundTrip"
            >· {{ p.rttMs }} ms round trip</ng-container
          >
        }
      </span>
    }
  `,
  styles: `
    .connection-path {
      font-size: 0.9em;
      color: var(--muted, inherit);
    }
  `,
})
export class ConnectionPathView {
  readonly path = input<ConnectionPath | null | undefined>(null);
  protected readonly words = computed(() => {
    const p = this.path();
    return p ? WORDS[p.kind] : '';
  });
  protected readonly hint = computed(() => {
    const p = this.path();
    return p ? HINTS[p.kind] : null;
  });
}
