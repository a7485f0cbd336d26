// Debian's Chromium driven by playwright-core (Playwright's own browser
// download needs the internet): the path and flags every browser suite and
// benchmark launches it with. Without WebRtcHideLocalIpsWithMdns disabled,
// two headless peers only see mDNS candidates they cannot resolve and never
// connect; the background-networking flags keep it off the closed network.
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];
