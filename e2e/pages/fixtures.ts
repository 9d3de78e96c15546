// The journeys' `test`: Playwright's, with the page objects injected as fixtures, and a
// check that fails any journey whose pages log a console error or throw.
import { expect, test as base } from '@playwright/test';
import { FeedPage, LoginPage, RegisterPage, Shell, UserPage } from './app';
import { ForgotPasswordPage, ResetPasswordPage, SessionsPage, TwoFactorPage } from './security';

/**
 * Console errors and uncaught exceptions of every page of the test's browser context. A
 * journey that provokes an error on purpose (a wrong password's 401: Chromium logs every
 * failed fetch) names it with `allow`; anything else fails the test.
 */
export class ConsoleErrors {
  readonly seen: string[] = [];
  private readonly allowed: RegExp[] = [];

  allow(pattern: RegExp): void {
    this.allowed.push(pattern);
  }

  unexpected(): string[] {
    return this.seen.filter((line) => !this.allowed.some((pattern) => pattern.test(line)));
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
  consoleErrors: [
    async ({ context }, use) => {
      const errors = new ConsoleErrors();
      context.on('console', (message) => {
        if (message.type() === 'error') errors.seen.push(`${message.text()} at ${message.location().url}`);
      });
      context.on('weberror', (error) => errors.seen.push(`uncaught: ${error.error().message}`));
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
