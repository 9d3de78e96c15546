// The journeys' `test`: Playwright's, with the page objects injected as fixtures, and a
// check that fails any journey whose pages log a console error or throw.
import { expect, test as base } from '@playwright/test';
import { FeedPage, LoginPage, RegisterPage, Shell, UserPage } from './app';
import { ForgotPasswordPage, ResetPasswordPage, SessionsPage, TwoFactorPage } from './security';

/**
 * Console errors and uncaught exceptions of every page of the test's browser context.
 * Chromium logs every API answer of 400 and above as a console error. A journey that
 * provokes one on purpose (a wrong password's 401) names it with `allowApiError`; anything
 * else fails the test, except the two answers that normal use gets by the API's design.
 */
export class ConsoleErrors {
  readonly seen: string[] = [];
  private readonly allowed: RegExp[] = [
    // "Do I follow this user?" is answered 404 for "no" (GET /api/me/following/{id}).
    /status of 404 \(Not Found\) at https?:\/\/[^/]+\/api\/me\/following\/\d+$/,
    // An expired access token (5 seconds in these journeys): one 401, then one refresh
    // and the retry. A refused refresh (401 from /api/tokens) is not in this list; a
    // logout's expired token is counted apart (`expiredLogouts`).
    /status of 401 \(Unauthorized\) at https?:\/\/[^/]+\/api\/(?!tokens)[^?]*(\?.*)?$/,
    // With the API on another origin (E2E_API_URL), the SPA cannot see the session hint
    // cookie, so it assumes a session on every start and asks: an anonymous start gets a
    // 401 from PUT /api/tokens (js/boot.js, src/api/hint.rs).
    ...(process.env.E2E_API_URL ? [/status of 401 \(Unauthorized\) at https?:\/\/[^/]+\/api\/tokens$/] : []),
  ];

  /** The answer `status` (or 'refused': no server) from the API path `path`, on purpose. */
  allowApiError(status: number | 'refused', path: string): void {
    const what = status === 'refused' ? 'net::ERR_CONNECTION_REFUSED' : `the server responded with a status of ${status} \\(.*\\)`;
    const escaped = path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    this.allowed.push(new RegExp(`^Failed to load resource: ${what} at https?://[^/]+${escaped}(\\?.*)?$`));
  }

  /**
   * A page's wasm chunk that the journey makes fail on purpose: the browser logs the failed
   * fetch, and the chunk loader's rejected promise surfaces as "Failed to fetch" (the page
   * itself shows its error and retry).
   */
  allowChunkFailure(): void {
    this.allowed.push(
      /^Failed to load resource: net::\S+ at https?:\/\/[^/]+\/(split|chunk)_[\w-]+\.wasm$/,
      /^(TypeError: |uncaught: )?Failed to fetch/,
    );
  }

  /**
   * Logouts sent with an access token that had just expired (DELETE /api/tokens answered
   * 401; the client refreshes and sends it again), counted from the answers themselves:
   * the console line does not say the method, and a refused refresh (PUT) must still fail.
   */
  expiredLogouts = 0;

  unexpected(): string[] {
    let logouts = this.expiredLogouts;
    const tokens401 = /status of 401 \(Unauthorized\) at https?:\/\/[^/]+\/api\/tokens$/;
    return this.seen.filter((line) => {
      if (this.allowed.some((pattern) => pattern.test(line))) return false;
      if (logouts > 0 && tokens401.test(line)) {
        logouts -= 1;
        return false;
      }
      return true;
    });
  }
}

interface PageObjects {
  consoleErrors: ConsoleErrors;
  shell: Shell;
  loginPage: LoginPage;
  registerPage: RegisterPage;
  feedPage: FeedPage;
  userPage: UserPage;
  forgotPage: ForgotPasswordPage;
  resetPage: ResetPasswordPage;
  twoFactorPage: TwoFactorPage;
  sessionsPage: SessionsPage;
}

export const test = base.extend<PageObjects>({
  // Arranging talks to the API, wherever it is: the SPA's own origin, or another one in
  // the cross-origin topology (E2E_API_URL, set by playwright.config.ts).
  request: async ({ request, playwright }, use) => {
    const api = process.env.E2E_API_URL;
    if (!api) return use(request);
    const context = await playwright.request.newContext({ baseURL: api });
    await use(context);
    await context.dispose();
  },
  consoleErrors: [
    async ({ context }, use) => {
      const errors = new ConsoleErrors();
      context.on('console', (message) => {
        if (message.type() === 'error') errors.seen.push(`${message.text()} at ${message.location().url}`);
      });
      context.on('weberror', (error) => errors.seen.push(`uncaught: ${error.error().message}`));
      context.on('response', (response) => {
        const request = response.request();
        if (request.method() === 'DELETE' && response.status() === 401 && new URL(response.url()).pathname === '/api/tokens') {
          errors.expiredLogouts += 1;
        }
      });
      await use(errors);
      expect(errors.unexpected(), 'console errors').toEqual([]);
    },
    { auto: true },
  ],
  shell: async ({ page }, use) => use(new Shell(page)),
  loginPage: async ({ page }, use) => use(new LoginPage(page)),
  registerPage: async ({ page }, use) => use(new RegisterPage(page)),
  feedPage: async ({ page }, use) => use(new FeedPage(page)),
  userPage: async ({ page }, use) => use(new UserPage(page)),
  forgotPage: async ({ page }, use) => use(new ForgotPasswordPage(page)),
  resetPage: async ({ page }, use) => use(new ResetPasswordPage(page)),
  twoFactorPage: async ({ page }, use) => use(new TwoFactorPage(page)),
  sessionsPage: async ({ page }, use) => use(new SessionsPage(page)),
});

export { expect };
export * from './api';
export * from './app';
export * from './mail';
export * from './security';
export * from './totp';
