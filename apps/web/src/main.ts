// $localize itself comes first, as a polyfill (project.json).
import { bootstrapApplication } from '@angular/platform-browser';
import { App } from './app/app';
import { appConfig } from './app/app.config';
import { applyLocale } from './app/i18n/locale';
import { registerAppWorker } from './app/pwa/app-worker';

// Before anything renders: every $localize string is translated when first evaluated.
applyLocale();
bootstrapApplication(App, appConfig).catch((error: unknown) => console.error(error));
registerAppWorker();
