// $localize itself comes first, as a polyfill (project.json).
import { bootstrapApplication } from '@angular/platform-browser';
import { App } from './app/app';
import { appConfig } from './app/app.config';
import { startDownloadEarly } from './app/browser-page-environment';
import { applyLocale } from './app/i18n/locale';
import { registerAppWorker } from './app/pwa/app-worker';
import { markSetup } from './app/timing/setup-mark';

markSetup('main');

// Before anything renders: every $localize string is translated when first evaluated.
applyLocale();
// A receive page's download starts now, beside the app's start-up (ADR 0030,
// ADR 0034): the gateway socket at once, then the download session, which
// dials the sender when the Welcome comes rather than once the router has
// rendered the page; and the receive page's code, which the router would
// otherwise only ask for once the app is bootstrapped.
if (location.pathname.startsWith('/s/')) {
  startDownloadEarly().catch(() => undefined);
  import('./app/receive/receive-page').catch(() => undefined);
}
bootstrapApplication(App, appConfig)
  .then(() => markSetup('bootstrapped'))
  .catch((error: unknown) => console.error(error));
registerAppWorker();
