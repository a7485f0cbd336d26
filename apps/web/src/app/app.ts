import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterLink, RouterOutlet } from '@angular/router';

import { InsecureContextNotice } from './connection/insecure-context-notice';
import { LanguageSwitcher } from './i18n/language-switcher';
import { SignInStatus } from './sign-in/sign-in-status';

@Component({
  selector: 'es-root',
  imports: [RouterOutlet, RouterLink, SignInStatus, InsecureContextNotice, LanguageSwitcher],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header>
      <a routerLink="/" class="brand">Ephemeral Share</a>
      <span class="muted tagline" i18n="@@app.tagline"
        >Browser to browser. Nothing stored on a server.</span
      >
      <es-sign-in-status />
      <es-language-switcher class="language" />
    </header>
    <main>
      <es-insecure-context-notice />
      <router-outlet />
    </main>
  `,
  styles: `
    header {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 0.25rem 1rem;
      padding: 1rem clamp(1rem, 4vw, 2rem);
      border-bottom: 1px solid var(--border);
    }
    .brand {
      font-weight: 700;
      font-size: 1.2rem;
      text-decoration: none;
      color: var(--text);
    }
    .tagline {
      font-size: 0.9rem;
    }
    .language {
      margin-left: auto;
    }
    main {
      max-width: 56rem;
      margin: 0 auto;
      padding: 0 clamp(0.75rem, 4vw, 2rem) 3rem;
    }
  `,
})
export class App {}
