import { bootstrapApplication } from '@angular/platform-browser';
import { App } from './app/app';
import { appConfig } from './app/app.config';
import { registerAppWorker } from './app/pwa/app-worker';

bootstrapApplication(App, appConfig).catch((error: unknown) => console.error(error));
registerAppWorker();
