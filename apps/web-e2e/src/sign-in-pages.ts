import type { Page } from '@ephemeral/browser-testing';

/** A test provider's login page (tools/oidc or Keycloak), as the portal reaches it. */
export interface LoginPage {
  /** The portal's origin, where the browser comes back to. */
  origin: string;
  /** Where the portal sends the browser to sign in (a prefix of the login page's URL). */
  loginUrl: string;
  /** The login form's button (tools/oidc: `#sign-in`, Keycloak: `#kc-login`). */
  submit: string;
  /** For each of the two navigations, there and back. */
  navigationTimeoutMs: number;
}

/**
 * Signs in from the portal's sign-in button through the provider's real
 * login page (user name and password in its form) and waits until the
 * portal is back on the page sign-in started from, showing who signed in.
 */
export async function signIn(
  page: Page,
  login: LoginPage,
  username: string,
  password: string,
): Promise<void> {
  await page.click('[data-testid=sign-in]');
  await page.waitForURL((url) => url.href.startsWith(login.loginUrl), {
    timeout: login.navigationTimeoutMs,
  });
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click(login.submit);
  // The callback page exchanges the code, shows who is signed in and then
  // routes back to where sign-in started: wait for that last step too.
  await page.waitForURL(
    (url) => url.origin === login.origin && !url.pathname.startsWith('/sign-in'),
    { timeout: login.navigationTimeoutMs },
  );
  await page.locator('[data-testid=signed-in-as]').waitFor({ timeout: 20_000 });
}

/** Waits until the page names a verified peer with `text` (who shared, who opened the link). */
export function waitForVerifiedPeer(page: Page, text: string): Promise<void> {
  return page
    .locator('[data-testid=verified-peer]', { hasText: text })
    .waitFor({ state: 'visible', timeout: 30_000 });
}
