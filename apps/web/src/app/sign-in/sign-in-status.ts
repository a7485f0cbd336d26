import { ChangeDetectionStrategy, Component, computed, type OnInit } from '@angular/core';

import { signInSession } from './sign-in-session';
import { describeIdentity, verifiedPeers } from './verified-peers';

/**
 * The header's sign-in corner (only with sign-in on): who is signed in, sign
 * in / sign out, why the gateway wants a sign-in, and the verified people
 * on the other end of this page's share ("Bob Martin (bob@example.com)
 * opened the link", "Shared by Alice Archer (alice@example.com)").
 */
@Component({
  selector: 'es-sign-in-status',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (enabled()) {
      <div class="sign-in" data-testid="sign-in-status">
        @if (session.user(); as user) {
          <span data-testid="signed-in-as" i18n="@@signIn.signedInAs"
            >Signed in as {{ user.name }}{{ user.email ? ' (' + user.email + ')' : '' }}</span
          >
          <button type="button" data-testid="sign-out" (click)="signOut()" i18n="@@signIn.signOut">
            Sign out
          </button>
        } @else {
          <button type="button" data-testid="sign-in" (click)="signIn()" i18n="@@signIn.signIn">
            Sign in
          </button>
        }
      </div>
      @if (session.required(); as why) {
        <p class="notice" role="alert" data-testid="sign-in-required" i18n="@@signIn.required">
          Sign in to continue: {{ why }}
        </p>
      }
      @if (session.refused(); as refused) {
        <p class="notice" role="alert" data-testid="sign-in-refused">{{ refused }}</p>
      }
      @if (session.problem(); as problem) {
        <p class="notice" role="status" data-testid="sign-in-problem">{{ problem }}</p>
      }
      @if (peers().length > 0) {
        <ul
          class="verified"
          data-testid="verified-peers"
          aria-label="Verified people"
          i18n-aria-label="@@signIn.verifiedPeople.label"
        >
          @for (peer of peers(); track peer.peerId) {
            <li
              data-testid="verified-peer"
              [attr.data-role]="peer.role"
              [attr.data-subject]="peer.identity.subject"
            >
              @if (peer.role === 'opened') {
                <ng-container i18n="@@signIn.verifiedPeer.opened"
                  >{{ describe(peer) }} opened the link</ng-container
                >
              } @else {
                <ng-container i18n="@@signIn.verifiedPeer.shares"
                  >Shared by {{ describe(peer) }}</ng-container
                >
              }
            </li>
          }
        </ul>
      }
    }
  `,
  styles: `
    :host {
      display: contents;
    }
    .sign-in {
      margin-left: auto;
      display: flex;
      gap: 0.5rem;
      align-items: baseline;
    }
    .notice,
    .verified {
      flex-basis: 100%;
      margin: 0.25rem 0 0;
    }
    .verified {
      padding-left: 1.25rem;
    }
  `,
})
export class SignInStatus implements OnInit {
  protected readonly session = signInSession;
  protected readonly enabled = computed(() => this.session.settings()?.mode === 'oidc');
  protected readonly peers = verifiedPeers;

  ngOnInit(): void {
    void this.session.load();
  }

  protected describe(peer: { identity: Parameters<typeof describeIdentity>[0] }): string {
    return describeIdentity(peer.identity);
  }

  protected signIn(): void {
    void this.session.signIn();
  }

  protected signOut(): void {
    void this.session.signOut();
  }
}
