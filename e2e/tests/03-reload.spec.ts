// Journey 3: a reload or a deep link in a new tab keeps the user logged in, on the same
// page, without the login screen flashing by while the session is restored.
import type { Frame, Page, Request } from '@playwright/test';
import { accessToken, expect, newAccount, register, test, writePost } from '../pages/fixtures';

/** Records, from the first byte of every document, whether a login form ever appeared. */
async function watchForLoginForm(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { sawLogin: boolean };
    w.sawLogin = false;
    new MutationObserver(() => {
      if (document.querySelector('input[autocomplete="current-password"]') || location.pathname === '/login') {
        w.sawLogin = true;
      }
    }).observe(document, { childList: true, subtree: true });
  });
}

async function sawLogin(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { sawLogin: boolean }).sawLogin);
}

test('reloading keeps the session and the page, with no login flash', async ({
  request,
  page,
  loginPage,
  shell,
}) => {
  const me = newAccount('reloader');
  const other = newAccount('other');
  await register(request, me);
  await register(request, other);
  await writePost(request, await accessToken(request, other), 'A post worth a deep link');

  await loginPage.goto();
  await loginPage.login(me);
  await watchForLoginForm(page);

  for (const path of ['/', '/explore', `/user/${other.username}?list=followers`, '/settings/profile']) {
    await page.goto(path);
    await shell.expectLoggedInAs(me.username);
    // API calls of the reloaded document only: the old one may still be loading lists
    // until the reload commits.
    const apiCalls: string[] = [];
    let reloaded = false;
    const committed = (frame: Frame) => {
      if (frame === page.mainFrame()) reloaded = true;
    };
    const record = (r: Request) => {
      const url = new URL(r.url());
      if (reloaded && url.pathname.startsWith('/api/') && !url.pathname.startsWith('/api/avatars/')) {
        apiCalls.push(`${r.method()} ${url.pathname}`);
      }
    };
    // Let the old document finish its own calls first, so none of them can be taken for
    // the new document's.
    await page.waitForLoadState('networkidle');
    page.on('framenavigated', committed);
    page.on('request', record);
    await page.reload();
    await shell.expectLoggedInAs(me.username);
    await expect(page).toHaveURL(path);
    expect(await sawLogin(page), `login form flashed on ${path}`).toBe(false);
    // Start-up restores the session with exactly one cookie-only refresh, before anything else.
    expect(apiCalls[0]).toBe('PUT /api/tokens');
    expect(apiCalls.filter((c) => c === 'PUT /api/tokens')).toHaveLength(1);
    page.off('request', record);
    page.off('framenavigated', committed);
  }

  const tab = await page.context().newPage();
  await watchForLoginForm(tab);
  await tab.goto(`/user/${other.username}`);
  await expect(tab.getByRole('heading', { name: other.username, level: 1 })).toBeVisible();
  await expect(tab.getByText('A post worth a deep link')).toBeVisible();
  await expect(tab).toHaveURL(`/user/${other.username}`);
  expect(await sawLogin(tab)).toBe(false);
});

test('a logged-out deep link goes to the login page and back after login', async ({ request, page, loginPage }) => {
  const me = newAccount('deeplink');
  const other = newAccount('target');
  await register(request, me);
  await register(request, other);

  await page.goto(`/user/${other.username}?list=following`);
  await expect(page).toHaveURL(`/login?next=${encodeURIComponent(`/user/${other.username}?list=following`)}`);
  await loginPage.login(me);
  await expect(page).toHaveURL(`/user/${other.username}?list=following`);
  await expect(page.getByRole('heading', { name: other.username, level: 1 })).toBeVisible();
});
