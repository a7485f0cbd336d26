import { ChangeDetectionStrategy, Component, inject, type OnInit, signal } from '@angular/core';
import { Router } from '@angular/router';

import { signInSession } from './sign-in-session';

/** `/sign-in/callback`: the issuer sends the browser back here with the code. */
@Component({
  selector: 'es-sign-in-callback-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (failure(); as message) {
      <section data-testid="sign-in-failed" role="alert">
        <h1 i18n="@@signIn.failed.heading">Sign-in failed</h1>
        <p>{{ message }}</p>
        <p i18n="@@signIn.failed.back"><a href="/">Back to the start</a></p>
      </section>
    } @else {
      <p data-testid="signing-in" aria-live="polite" i18n="@@signIn.signingIn">Signing you in…</p>
    }
  `,
})
export class SignInCallbackPage implements OnInit {
  private readonly router = inject(Router);
  protected readonly failure = signal<string | null>(null);

  async ngOnInit(): Promise<void> {
    try {
      const returnTo = new URL(await signInSession.completeSignIn(new URL(location.href)));
      // Same origin only; the fragment (a share link's secret) stays in the browser.
      const target =
        returnTo.origin === location.origin
          ? `${returnTo.pathname}${returnTo.search}${returnTo.hash}`
          : '/';
      await this.router.navigateByUrl(target, { replaceUrl: true });
      // The router drops the fragment: put it back for the receive page.
      if (returnTo.origin === location.origin && returnTo.hash) {
        history.replaceState(history.state, '', target);
      }
    } catch (error) {
      this.failure.set(error instanceof Error ? error.message : String(error));
    }
  }
}
