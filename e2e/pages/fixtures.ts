// The journeys' `test`: Playwright's, with the page objects injected as fixtures.
import { test as base } from '@playwright/test';
import { FeedPage, LoginPage, RegisterPage, Shell, UserPage } from './app';

interface PageObjects {
  shell: Shell;
  loginPage: LoginPage;
  registerPage: RegisterPage;
  feedPage: FeedPage;
  userPage: UserPage;
}

export const test = base.extend<PageObjects>({
  shell: async ({ page }, use) => use(new Shell(page)),
  loginPage: async ({ page }, use) => use(new LoginPage(page)),
  registerPage: async ({ page }, use) => use(new RegisterPage(page)),
  feedPage: async ({ page }, use) => use(new FeedPage(page)),
  userPage: async ({ page }, use) => use(new UserPage(page)),
});

export { expect } from '@playwright/test';
export * from './api';
export * from './app';
