/**
 * Browser notifications for the moments a person may be waiting for in
 * another tab (a receiver connected, a download finished). Only ever asked
 * for from a click, and only shown while this tab is hidden: a visible page
 * already says it.
 */
export function notificationsSupported(): boolean {
  return typeof Notification !== 'undefined';
}

export function notificationsGranted(): boolean {
  return notificationsSupported() && Notification.permission === 'granted';
}

/** Must run inside a click handler (browsers ignore the request otherwise). */
export async function askForNotifications(): Promise<boolean> {
  if (!notificationsSupported()) return false;
  if (Notification.permission === 'granted') return true;
  return (await Notification.requestPermission()) === 'granted';
}

export function notify(title: string, body: string): void {
  if (!notificationsGranted() || !document.hidden) return;
  try {
    new Notification(title, { body, tag: 'ephemeral-share' });
  } catch {
    // Android Chrome only shows notifications through a service worker; the
    // page itself still says everything, so nothing is lost.
  }
}
