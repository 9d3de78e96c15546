// Journey 9: an automated accessibility audit (axe, WCAG 2.x A and AA rules) of every page,
// in the light and the dark theme, reports no violations, and the app works from the
// keyboard alone (the theme switch included).
import AxeBuilder from '@axe-core/playwright';
import type { APIRequestContext, Page } from '@playwright/test';
import {
  accessToken,
  currentStep,
  expect,
  type LoginPage,
  newAccount,
  register,
  test,
  totp,
  writePost,
} from '../pages/fixtures';

// Every audit runs twice (both themes): these journeys need more than the default 30 s.
test.describe.configure({ timeout: 90_000 });

/** Audits the page in the light theme and in the dark one (the header's theme switch). */
async function audit(page: Page, what: string): Promise<void> {
  const chosen = await page.evaluate(() => document.documentElement.dataset.theme ?? null);
  for (const theme of ['light', 'dark']) {
    await page.evaluate((theme) => (document.documentElement.dataset.theme = theme), theme);
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    const summary = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`);
    expect(summary, `axe on ${what}, ${theme} theme`).toEqual([]);
  }
  await page.evaluate((chosen) => {
    if (chosen === null) delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = chosen;
  }, chosen);
}

test('logged-out pages pass the audit', async ({ page }) => {
  for (const [path, heading] of [
    ['/login', 'Log in'],
    ['/register', 'Register'],
    ['/forgot', 'Forgot password'],
    ['/reset', 'Choose a new password'],
    ['/reset?token=not-checked-until-sent', 'Choose a new password'],
    ['/no/such/page', 'Page not found'],
  ]) {
    await page.goto(path);
    await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
    await audit(page, path);
  }
  // With errors showing, too.
  await page.goto('/register');
  await page.getByRole('button', { name: 'Register' }).click();
  await expect(page.getByLabel('Username')).toHaveAttribute('aria-invalid', 'true');
  await audit(page, '/register with errors');
  await page.goto('/reset?token=not-checked-until-sent');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page.getByLabel('New password', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await audit(page, '/reset with errors');
  await page.goto('/forgot');
  await page.getByLabel('Email address').fill('someone@example.test');
  await page.getByRole('button', { name: 'Send the link' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'If an account exists' })).toBeVisible();
  await audit(page, '/forgot, sent');
});

/** Registers a user with one post and a neighbour, and logs in through the UI. */
async function loggedIn(request: APIRequestContext, loginPage: LoginPage) {
  const me = newAccount('audited');
  const other = newAccount('neighbour');
  await register(request, me);
  await register(request, other);
  await writePost(request, await accessToken(request, me), 'A post to audit');
  await loginPage.goto();
  await loginPage.login(me);
  return { me, other };
}

async function visitAndAudit(page: Page, path: string, heading: string): Promise<void> {
  await page.goto(path);
  await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Loading' })).toHaveCount(0);
  await audit(page, path);
}

test('the feed and Explore pass the audit', async ({ request, page, loginPage }) => {
  await loggedIn(request, loginPage);
  await expect(page.getByRole('main').getByRole('article').first()).toBeVisible();
  await audit(page, 'feed');
  await visitAndAudit(page, '/explore', 'Explore');
});

test('user pages pass the audit', async ({ request, page, loginPage }) => {
  const { me, other } = await loggedIn(request, loginPage);
  await visitAndAudit(page, `/user/${me.username}`, me.username);
  await visitAndAudit(page, `/user/${me.username}?list=followers`, me.username);
  await visitAndAudit(page, `/user/${other.username}`, other.username);

  // A delete confirmation on screen.
  const post = page.getByRole('main').getByRole('article').first();
  await page.goto(`/user/${me.username}`);
  await post.getByRole('button', { name: 'Delete' }).click();
  await expect(post.getByRole('button', { name: 'Yes, delete' })).toBeVisible();
  await audit(page, 'delete confirmation');
});

test('settings and editing pass the audit', async ({ request, page, loginPage }) => {
  const { me } = await loggedIn(request, loginPage);
  await visitAndAudit(page, '/settings/profile', 'Edit profile');
  // A new email asks for the current password; sent without it, the field says so.
  await page.getByLabel('Email address').fill(`new-${me.email}`);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');
  await audit(page, 'profile form asking for the current password');
  await visitAndAudit(page, '/settings/password', 'Change password');

  await page.goto(`/user/${me.username}`);
  await page.getByRole('main').getByRole('article').first().getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByLabel('Your post')).toHaveValue('A post to audit');
  await audit(page, 'edit post');

  // A flash message on screen, and field errors.
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('region', { name: 'Notifications' }).getByText('Your post has been updated.')).toBeVisible();
  await audit(page, 'flash message');
  await page.goto('/settings/password');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');
  await audit(page, 'password form with errors');
});

test('two-factor, sessions and the login code step pass the audit', async ({
  request,
  page,
  loginPage,
  shell,
  twoFactorPage,
  sessionsPage,
}) => {
  const { me } = await loggedIn(request, loginPage);
  await visitAndAudit(page, '/settings/sessions', 'Sessions');
  await expect(sessionsPage.current).toHaveCount(1);
  await audit(page, 'sessions');

  await twoFactorPage.goto();
  await audit(page, 'two-factor, off');
  await twoFactorPage.turnOn.click();
  await expect(twoFactorPage.password).toBeFocused();
  await audit(page, 'two-factor, password');
  await twoFactorPage.password.fill(me.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(twoFactorPage.qrCode).toBeVisible();
  await audit(page, 'two-factor, QR code');
  const secret = (await twoFactorPage.secret.inputValue()).replace(/\s+/g, '');
  await twoFactorPage.confirm(totp(secret, currentStep()));
  await audit(page, 'two-factor, recovery codes');
  await twoFactorPage.dismissCodes();
  await audit(page, 'two-factor, on');
  await twoFactorPage.turnOff.click();
  await audit(page, 'two-factor, turning off');

  await page.getByRole('button', { name: 'Cancel' }).click();
  await shell.logout();
  const codeStep = await loginPage.toCodeStep(me);
  await audit(page, 'login, code step');
  await codeStep.verify.click();
  await expect(codeStep.code).toHaveAttribute('aria-invalid', 'true');
  await audit(page, 'login, code step with errors');
  await codeStep.useRecoveryCode.click();
  await audit(page, 'login, recovery code');
});

test('the keyboard alone reaches everything, and focus follows navigation', async ({ request, page, loginPage }) => {
  const me = newAccount('keyboard');
  await register(request, me);
  await loginPage.goto();

  // The skip link comes first.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  // The theme switch works from the keyboard.
  const theme = page.getByRole('banner').getByRole('combobox', { name: 'Theme' });
  await theme.focus();
  await page.keyboard.press('ArrowDown');
  await expect(theme).toHaveValue('light');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');

  await loginPage.username.focus();
  await page.keyboard.type(me.username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(me.password);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Feed', level: 1 })).toBeVisible();

  const explore = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Explore', exact: true });
  await explore.focus();
  await page.keyboard.press('Enter');
  // After navigating, focus moves to the new page's heading.
  await expect(page.getByRole('heading', { name: 'Explore', level: 1 })).toBeFocused();
});

test('fits a phone-sized screen without sideways scrolling', async ({ request, page, loginPage }) => {
  const me = newAccount('phone');
  await register(request, me);
  await page.setViewportSize({ width: 360, height: 740 });
  await loginPage.goto();
  await loginPage.login(me);
  const text = 'A rather long word: ' + 'x'.repeat(120);
  await page.getByLabel("What's on your mind?").fill(text);
  await page.getByRole('button', { name: 'Post', exact: true }).click();
  await expect(page.getByRole('main').getByRole('article')).toHaveCount(1);
  for (const path of ['/', `/user/${me.username}`, '/settings/profile']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  }
});
