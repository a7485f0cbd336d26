// The browser side of the end-to-end suites (apps/web-e2e, apps/netlab-e2e),
// the screenshots and the transfer benchmarks: the built web app served by
// real processes, users' browsers (Chromium through playwright-core, Firefox
// through puppeteer-core over WebDriver BiDi), what they do on the app's
// pages, and the files they share.
export * from './app-stack';
export * from './browser-peer';
export * from './firefox-peer';
export * from './firefox-prefs';
export * from './pages';
export * from './peer';
export * from './peer-pages';
export * from './test-files';
