// The journeys' `test`: Playwright's, with the page objects injected as fixtures.
import { test as base } from '@playwright/test';
import { FeedPage, LoginPage, RegisterPage, Shell, UserPage } from './app';
import { ForgotPasswordPage, ResetPasswordPage, SessionsPage, TwoFactorPage } from './security';

interface PageObjects {
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

export { expect } from '@playwright/test';
export * from './api';
export * from './app';
export * from './mail';
export * from './security';
export * from './totp';
