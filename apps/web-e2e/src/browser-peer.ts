// Moved to libs/browser-testing; this re-export remains only for
// sign-in.e2e-spec.ts, which still imports it here. Import
// @ephemeral/browser-testing instead.
export { BrowserPeers, type Page } from '@ephemeral/browser-testing';
