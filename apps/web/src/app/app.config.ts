import {
  ApplicationConfig,
  LOCALE_ID,
  provideBrowserGlobalErrorListeners,
  provideZonelessChangeDetection,
} from '@angular/core';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { routes } from './app.routes';
import { currentLocale } from './i18n/locale';
import { browserPageEnvironment } from './browser-page-environment';
import { PAGE_ENVIRONMENT } from './page-environment';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideZonelessChangeDetection(),
    provideRouter(routes, withComponentInputBinding()),
    // Dates, numbers and plural rules follow the page's language.
    { provide: LOCALE_ID, useFactory: currentLocale },
    { provide: PAGE_ENVIRONMENT, useFactory: browserPageEnvironment },
  ],
};
