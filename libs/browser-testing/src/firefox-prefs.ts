// Debian's Firefox ESR, driven by puppeteer-core over WebDriver BiDi
// (Playwright's `firefox` needs Playwright's own patched build, which cannot
// be downloaded offline and does not drive stock Firefox): the path and the
// preferences the browser suite launches it with (puppeteer adds its own
// automation defaults).
export const FIREFOX_PATH = process.env['FIREFOX_PATH'] ?? '/usr/bin/firefox-esr';

/** `downloadDir`: where every download lands, with no dialog. */
export function firefoxPrefs(downloadDir: string): Record<string, unknown> {
  return {
    // Host candidates as IP addresses, not mDNS names: two headless peers on
    // one box could not resolve those and would never connect.
    'media.peerconnection.ice.obfuscate_host_addresses': false,
    'browser.download.dir': downloadDir,
    'browser.download.folderList': 2,
    'browser.download.useDownloadDir': true,
    'browser.download.always_ask_before_handling_new_types': false,
    'browser.download.start_downloads_in_tmp_dir': false,
    'browser.download.alwaysOpenPanel': false,
    'browser.helperApps.neverAsk.saveToDisk':
      'application/octet-stream,application/zip,text/plain,application/pdf',
    // Nothing reaches for the (closed) network on its own.
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'browser.safebrowsing.downloads.remote.enabled': false,
  };
}
