// Journey 9: an automated accessibility audit (axe, WCAG 2.x A and AA rules) of every page
// reports no violations, and the app works from the keyboard alone.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { accessToken, expect, newAccount, register, test, writePost } from '../pages/fixtures';

async function audit(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const summary = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`);
  expect(summary, `axe on ${what}`).toEqual([]);
}

test('logged-out pages pass the audit', async ({ page }) => {
  for (const [path, heading] of [
    ['/login', 'Log in'],
    ['/register', 'Register'],
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
});

test('logged-in pages pass the audit', async ({ request, page, loginPage }) => {
  const me = newAccount('audited');
  const other = newAccount('neighbour');
  await register(request, me);
  await register(request, other);
  const token = await accessToken(request, me);
  await writePost(request, token, 'A post to audit');

  await loginPage.goto();
  await loginPage.login(me);
  const posts = page.getByRole('main').getByRole('article');
  await expect(posts.first()).toBeVisible();
  await audit(page, 'feed');

  const pages: [string, string][] = [
    ['/explore', 'Explore'],
    [`/user/${me.username}`, me.username],
    [`/user/${me.username}?list=followers`, me.username],
    [`/user/${other.username}`, other.username],
    ['/settings/profile', 'Edit profile'],
    ['/settings/password', 'Change password'],
  ];
  for (const [path, heading] of pages) {
    await page.goto(path);
    await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: 'Loading' })).toHaveCount(0);
    await audit(page, path);
  }

  await page.goto(`/user/${me.username}`);
  await posts.first().getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByLabel('Your post')).toHaveValue('A post to audit');
  await audit(page, 'edit post');

  // A flash message and a delete confirmation on screen.
  await page.goto(`/user/${me.username}`);
  await posts.first().getByRole('button', { name: 'Delete' }).click();
  await expect(posts.first().getByRole('button', { name: 'Yes, delete' })).toBeVisible();
  await audit(page, 'delete confirmation');
});

test('the keyboard alone reaches everything, and focus follows navigation', async ({ request, page, loginPage }) => {
  const me = newAccount('keyboard');
  await register(request, me);
  await loginPage.goto();

  // The skip link comes first.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();

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
