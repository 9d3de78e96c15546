// Journey 13: sessions. From one browser, log out another one (or all others): that
// browser shows the logged-out state at its next request. A password change does the same.
import type { Browser, Page } from '@playwright/test';
import { type Account, expect, LoginPage, newAccount, register, Shell, test } from '../pages/fixtures';

/** Another browser (its own cookies), logged in as `account`. */
async function otherBrowser(browser: Browser, baseURL: string | undefined, account: Account): Promise<Page> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const login = new LoginPage(page);
  await login.goto();
  await login.login(account);
  return page;
}

/** `page` does something that calls the API, and finds itself logged out. */
async function expectEnded(page: Page): Promise<void> {
  const shell = new Shell(page);
  await shell.nav.getByRole('link', { name: 'Explore', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
  await expect(shell.flash('Your session has ended. Please log in again.')).toBeVisible();
  await shell.expectLoggedOut();
}

test('logging out another session ends it in that browser', async ({
  browser,
  baseURL,
  request,
  page,
  loginPage,
  shell,
  sessionsPage,
}) => {
  const me = newAccount('twobrowsers');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);
  const other = await otherBrowser(browser, baseURL, me);

  await shell.gotoOwnPage(me.username);
  await page.getByRole('link', { name: 'Sessions' }).click();
  await expect(page.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
  await expect(sessionsPage.sessions).toHaveCount(2);
  await expect(sessionsPage.current).toHaveCount(1);
  await expect(sessionsPage.current).toContainText('Chrome on Linux');
  await expect(sessionsPage.current).toContainText('127.0.0.1');
  await expect(sessionsPage.current.getByRole('button', { name: 'Log out' })).toHaveCount(0);

  await sessionsPage.logOut(sessionsPage.others);
  await expect(sessionsPage.sessions).toHaveCount(1);
  await expect(sessionsPage.logOutOthers).toHaveCount(0);

  await expectEnded(other);
  // This browser is still logged in.
  await shell.gotoExplore();
  await shell.expectLoggedInAs(me.username);
  await other.context().close();
});

test('"log out all other sessions" ends every other browser', async ({
  browser,
  baseURL,
  request,
  loginPage,
  shell,
  sessionsPage,
}) => {
  const me = newAccount('manybrowsers');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);
  const others = [await otherBrowser(browser, baseURL, me), await otherBrowser(browser, baseURL, me)];

  await sessionsPage.goto();
  await expect(sessionsPage.sessions).toHaveCount(3);
  await sessionsPage.logOutOthers.click();
  await expect(shell.flash('2 other sessions have been logged out.')).toBeVisible();
  await expect(sessionsPage.sessions).toHaveCount(1);

  for (const other of others) {
    await expectEnded(other);
    await other.context().close();
  }
});

test('changing the password logs out the other sessions, and says so', async ({
  browser,
  baseURL,
  request,
  page,
  loginPage,
  shell,
}) => {
  const me = newAccount('changer');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);
  const other = await otherBrowser(browser, baseURL, me);

  await page.goto('/settings/password');
  const newPassword = `${me.password}-changed`;
  await page.getByLabel('Current password').fill(me.password);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('New password again').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(shell.flash('Your password has been changed. Other sessions were logged out.')).toBeVisible();

  await expectEnded(other);
  await shell.gotoExplore();
  await shell.expectLoggedInAs(me.username);
  await other.context().close();
});
