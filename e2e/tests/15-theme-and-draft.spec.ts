// Journey 15: what the site remembers on this browser. The theme (system, light or dark,
// from the header) is remembered and in place before the first paint, the entry forms
// before the app included; an unsent post survives a reload and a visit to another page,
// and goes when it is sent or the person logs out.
import type { Page } from '@playwright/test';
import { expect, newAccount, register, test } from '../pages/fixtures';

/** The page's background colour, as drawn. */
function background(page: Page): Promise<string> {
  return page.evaluate(() => getComputedStyle(document.body).backgroundColor);
}

const LIGHT = 'rgb(246, 247, 249)';
const DARK = 'rgb(20, 24, 29)';

test('the theme is chosen in the header, remembered, and in place before the first paint', async ({ page, shell }) => {
  // What <html data-theme> says in the first frame the browser draws, before any module.
  await page.addInitScript(() => {
    requestAnimationFrame(() => {
      (window as unknown as { firstFrameTheme: string }).firstFrameTheme = document.documentElement.dataset.theme ?? 'none';
    });
  });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/login');
  await expect(shell.theme).toHaveValue('system');
  expect(await background(page)).toBe(LIGHT);

  await shell.chooseTheme('dark');
  expect(await background(page)).toBe(DARK);
  expect(await page.evaluate(() => localStorage.getItem('microblog-theme'))).toBe('"dark"');

  // Reloaded with the app held back: the theme is there from the first frame, and the
  // switch of the page shown before the app says so.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/*.wasm', async (route) => {
    await released;
    await route.continue();
  });
  await page.reload({ waitUntil: 'commit' });
  await expect(page.locator('[data-boot] h1')).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { firstFrameTheme: string }).firstFrameTheme)).toBe('dark');
  expect(await background(page)).toBe(DARK);
  await expect(shell.theme).toHaveValue('dark');
  // Changed before the app arrives, the choice holds once it has.
  await shell.chooseTheme('light');
  release();
  await expect(page.locator('[data-boot]')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Log in', exact: true })).toBeEnabled();
  await expect(shell.theme).toHaveValue('light');

  // The system's scheme is followed unless a theme is chosen.
  await page.emulateMedia({ colorScheme: 'dark' });
  expect(await background(page)).toBe(LIGHT);
  await shell.chooseTheme('system');
  expect(await background(page)).toBe(DARK);
  expect(await page.evaluate(() => localStorage.getItem('microblog-theme'))).toBeNull();
  await page.reload();
  await expect(shell.theme).toHaveValue('system');
  expect(await background(page)).toBe(DARK);
});

test('an unsent post survives a reload and a visit elsewhere, and goes when sent or on logout', async ({
  request,
  page,
  loginPage,
  shell,
  feedPage,
}) => {
  const me = newAccount('drafter');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);

  await feedPage.box.fill('Half a thought, to be continued');
  await shell.gotoExplore();
  await shell.gotoFeed();
  await expect(feedPage.box).toHaveValue('Half a thought, to be continued');
  await page.reload();
  await expect(feedPage.box).toHaveValue('Half a thought, to be continued');

  // Sent: the box and the stored draft are empty, and stay so after a reload.
  await feedPage.box.fill('A whole thought');
  await feedPage.submit.click();
  await feedPage.posts.expectShown('A whole thought');
  await expect(feedPage.box).toHaveValue('');
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  await page.reload();
  await expect(feedPage.posts.post('A whole thought')).toBeVisible();
  await expect(feedPage.box).toHaveValue('');

  // Logging out forgets a draft: the next person at this computer does not find it.
  await feedPage.box.fill('Not for the next person');
  await expect.poll(() => page.evaluate(() => sessionStorage.getItem('microblog-draft'))).toBe('"Not for the next person"');
  await shell.logout();
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  // Logging in again on the same page lands on the feed.
  await loginPage.login(me);
  await expect(page.getByRole('heading', { name: 'Feed', level: 1 })).toBeVisible();
  await expect(feedPage.box).toHaveValue('');
});
