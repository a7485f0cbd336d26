// $localize itself comes first, as a polyfill (project.json).
import { bootstrapApplication } from '@angular/platform-browser';
import { App } from './app/app';
import { appConfig } from './app/app.config';
import { preconnectSignaling } from './app/browser-page-environment';
import { applyLocale } from './app/i18n/locale';
import { registerAppWorker } from './app/pwa/app-worker';

// Before anything renders: every $localize string is translated when first evaluated.
applyLocale();
// A receive page's connection starts now, beside the app's start-up (ADR 0030):
// the gateway socket, and the receive page's code, which the router would
// otherwise only ask for once the app is bootstrapped.
if (location.pathname.startsWith('/s/')) {
  preconnectSignaling();
  import('./app/receive/receive-page').catch(() => undefined);
}
bootstrapApplication(App, appConfig).catch((error: unknown) => console.error(error));
registerAppWorker();
