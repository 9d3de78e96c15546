// The pages a first visit never shows are wasm chunks fetched when first needed: each one
// loads by navigation, by a deep link and by a reload; a first visit to /login fetches
// none; and a chunk that fails to arrive shows an error with a retry that works.
import type { Page, Request } from '@playwright/test';
import {
  accessToken,
  enableTwoFactor,
  expect,
  follow,
  newAccount,
  register,
  test,
  writePost,
} from '../pages/fixtures';

/** The wasm chunks the page has asked for, by name (`split_security`), in order. */
function watchChunks(page: Page): string[] {
  const chunks: string[] = [];
  page.on('request', (request: Request) => {
    const file = new URL(request.url()).pathname.split('/').pop() ?? '';
    const chunk = /^((?:split|chunk)_[a-z0-9_]+)-[0-9a-f]{16}\.wasm$/.exec(file);
    if (chunk) chunks.push(chunk[1]);
  });
  return chunks;
}

/** Every wasm file the page has asked for. */
function watchWasm(page: Page): string[] {
  const files: string[] = [];
  page.on('request', (request: Request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) files.push(path);
  });
  return files;
}

test('a first visit to /login needs only the main module; the likely next pages follow', async ({ page }) => {
  const wasm = watchWasm(page);
  const chunks = watchChunks(page);
  await page.goto('/login');
  // Enabled (and so named "Log in") only once the app runs.
  await expect(page.getByRole('button', { name: 'Log in' })).toBeEnabled();
  expect(wasm[0]).toMatch(/^\/microblog_bg-[0-9a-f]{16}\.wasm$/);
  // The provider links, last on the page, come in their own chunk as soon as the page
  // shows; once the app is idle it fetches what a visitor on this page needs next: the
  // session's API calls (the login is sent with them), the pages that show posts (a login
  // leads there) and the other entry pages; nothing else.
  const expected = ['split_entry', 'split_posts', 'split_providers', 'split_session'];
  await expect.poll(() => chunks.filter((c) => c.startsWith('split_')).sort()).toEqual(expected);
  await page.waitForLoadState('networkidle');
  expect(chunks.filter((c) => c.startsWith('split_')).sort()).toEqual(expected);
  expect(wasm.filter((path) => path.includes('microblog_bg'))).toHaveLength(1);
});

test('nothing optional is asked for before the login form is painted usable', async ({ page }) => {
  // The first animation frame in which the app's own submit button is enabled: the
  // browser paints right after it. Its time is kept on <html>.
  await page.addInitScript(() => {
    const tick = () => {
      const submit = document.querySelector('main:not([data-boot]) form button[type="submit"]');
      if (submit instanceof HTMLButtonElement && !submit.disabled) {
        document.documentElement.dataset.usableFrame = String(performance.now());
        return;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await page.goto('/login');
  await expect(page.getByRole('button', { name: 'Log in' })).toBeEnabled();
  await page.waitForLoadState('networkidle');
  const { usable, requests } = await page.evaluate(() => ({
    usable: Number(document.documentElement.dataset.usableFrame),
    requests: performance
      .getEntriesByType('resource')
      .map((entry) => ({ path: new URL(entry.name).pathname, start: entry.startTime })),
  }));
  expect(usable).toBeGreaterThan(0);
  // The provider links' chunk (and the chunks it shares code with), the provider list and
  // the prefetched pages: each a fetch of a few milliseconds of main thread on a slow
  // phone, which would otherwise run inside the mount and hold the form back.
  const optional = requests.filter(
    (r) => /^\/(split|chunk)_/.test(r.path) || r.path === '/api/tokens/oauth2',
  );
  expect(optional.map((r) => r.path)).toEqual(
    expect.arrayContaining([expect.stringMatching(/^\/split_providers-/), '/api/tokens/oauth2']),
  );
  for (const request of optional) expect(request.start, request.path).toBeGreaterThan(usable);
});

test('a reload of a logged-in page fetches its chunk alongside the session refresh', async ({
  request,
  page,
  loginPage,
  shell,
}) => {
  const me = newAccount('parallel');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);
  await shell.gotoOwnPage(me.username);
  for (const [path, chunk] of [
    ['/', 'split_posts'],
    [`/user/${me.username}`, 'split_posts'],
  ]) {
    // The refresh is held until the page's chunk has been asked for: an app that fetched
    // the chunk only after the refresh would never get there.
    let chunkAsked: () => void = () => {};
    const asked = new Promise<void>((resolve) => {
      chunkAsked = resolve;
    });
    await page.route(new RegExp(`/${chunk}-[0-9a-f]{16}\\.wasm$`), async (route) => {
      chunkAsked();
      await route.continue();
    });
    await page.route('**/api/tokens', async (route) => {
      if (route.request().method() === 'PUT') await asked;
      await route.continue();
    });
    await page.goto(path);
    await shell.expectLoggedInAs(me.username);
    await page.unrouteAll();
  }
});

test('the feed, explore, a user page and the register page load by link, deep link and reload', async ({
  request,
  page,
  loginPage,
  shell,
}) => {
  const chunks = watchChunks(page);
  await page.goto('/login');
  await page.getByRole('main').getByRole('link', { name: 'Register here' }).click();
  const registerHeading = page.getByRole('heading', { name: 'Register', level: 1 });
  await expect(registerHeading).toBeVisible();
  await page.reload();
  await expect(registerHeading).toBeVisible();
  await expect(page.getByRole('button', { name: 'Register' })).toBeEnabled();
  expect(chunks).toContain('split_entry');

  const me = newAccount('lazyfeed');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);
  const feed = page.getByRole('heading', { name: 'Feed', level: 1 });
  const explore = page.getByRole('heading', { name: 'Explore', level: 1 });
  const mine = page.getByRole('heading', { name: me.username, level: 1 });
  await expect(feed).toBeVisible();
  await shell.gotoOwnPage(me.username);
  await expect(mine).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Explore' }).click();
  await expect(explore).toBeVisible();
  for (const [path, heading] of [
    ['/', feed],
    ['/explore', explore],
    [`/user/${me.username}`, mine],
  ] as const) {
    await page.goto(path);
    await expect(heading).toBeVisible();
    await page.reload();
    await expect(heading).toBeVisible();
  }
  expect(chunks).toContain('split_posts');
});

test('the password pages load by navigation, by a deep link and by reload', async ({ page, loginPage }) => {
  const chunks = watchChunks(page);
  const main = page.getByRole('main');

  // The forgotten-password page, a link away from the login page.
  await loginPage.goto();
  const forgot = page.getByRole('heading', { name: 'Forgot password', level: 1 });
  await main.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(forgot).toBeVisible();
  expect(chunks).toContain('split_entry');
  await page.goto('/register');
  await page.goto('/forgot');
  await expect(forgot).toBeVisible();
  await page.reload();
  await expect(forgot).toBeVisible();

  // The reset page is only ever opened from an email's link: a deep link.
  const reset = page.getByRole('heading', { name: 'Choose a new password', level: 1 });
  await page.goto('/reset');
  await expect(reset).toBeVisible();
  await expect(main.getByRole('alert')).toContainText('needs the link from a password-reset email');
  expect(chunks).toContain('split_entry');
  await page.reload();
  await expect(reset).toBeVisible();
});

/**
 * The logged-in pages in chunks, each reached from one's own page. The settings pages share
 * one chunk, the two-factor settings have their own; editing a post and the follower lists
 * are in the chunk of the pages that show posts, fetched before they are needed.
 */
const privatePages: { chunk: string; link: RegExp | string; path: RegExp; heading: string }[] = [
  { chunk: 'split_settings', link: 'Edit profile', path: /\/settings\/profile$/, heading: 'Edit profile' },
  { chunk: 'split_settings', link: 'Change password', path: /\/settings\/password$/, heading: 'Change password' },
  {
    chunk: 'split_security',
    link: 'Two-factor authentication',
    path: /\/settings\/security$/,
    heading: 'Two-factor authentication',
  },
  { chunk: 'split_settings', link: 'Sessions', path: /\/settings\/sessions$/, heading: 'Sessions' },
  { chunk: 'split_posts', link: 'Edit', path: /\/posts\/\d+\/edit/, heading: 'Edit post' },
  // The followers list: a tab of the user page, whose heading stays.
  { chunk: 'split_posts', link: /^Followers/, path: /\?list=followers$/, heading: '' },
];

for (const lazy of privatePages) {
  test(`${lazy.path.source}: ${lazy.chunk} loads by navigation, by a deep link and by reload`, async ({
    request,
    page,
    loginPage,
    shell,
  }) => {
    const me = newAccount('lazy');
    const fan = newAccount('fan');
    const { id: meId } = await register(request, me);
    await register(request, fan);
    await writePost(request, await accessToken(request, me), 'A post to edit later');
    await follow(request, await accessToken(request, fan), meId);
    const chunks = watchChunks(page);
    const main = page.getByRole('main');
    // What shows once the piece is here.
    const shown = lazy.heading
      ? page.getByRole('heading', { name: lazy.heading, level: 1 })
      : main.getByRole('link', { name: fan.username });

    await loginPage.goto();
    await loginPage.login(me);
    await shell.gotoOwnPage(me.username);
    if (lazy.chunk !== 'split_posts') expect(chunks, 'fetched before it was needed').not.toContain(lazy.chunk);
    await main.getByRole('link', { name: lazy.link, exact: true }).first().click();
    await expect(shown).toBeVisible();
    await expect(page).toHaveURL(lazy.path);
    expect(chunks).toContain(lazy.chunk);

    const url = page.url();
    await page.goto('/explore');
    await expect(page.getByRole('heading', { name: 'Explore', level: 1 })).toBeVisible();
    await page.goto(url);
    await expect(shown).toBeVisible();

    await page.reload();
    await expect(shown).toBeVisible();
    await shell.expectLoggedInAs(me.username);
  });
}

test('the code step of a two-factor login is a chunk', async ({ request, page, loginPage }) => {
  const me = newAccount('lazy2fa');
  await register(request, me);
  await enableTwoFactor(request, me);
  const chunks = watchChunks(page);
  await loginPage.goto();
  const codeStep = await loginPage.toCodeStep(me);
  await expect(codeStep.code).toBeFocused();
  expect(chunks).toContain('split_entry');
});

/** Fails the first `times` requests for the chunk `name`, lets later ones through; counts them. */
async function failOnce(page: Page, name: string, times = 1): Promise<{ requests: number }> {
  const seen = { requests: 0 };
  await page.route(new RegExp(`/${name}-[0-9a-f]{16}\\.wasm$`), async (route) => {
    seen.requests += 1;
    if (seen.requests <= times) await route.abort('connectionreset');
    else await route.continue();
  });
  return seen;
}

test('a login sent before the chunk of the session calls has arrived goes out once it has', async ({
  request,
  page,
  loginPage,
  shell,
}) => {
  const me = newAccount('early');
  await register(request, me);
  // The chunk is held until the form has been sent.
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held = false;
  await page.route(/\/split_session-[0-9a-f]{16}\.wasm$/, async (route) => {
    held = true;
    await released;
    await route.continue();
  });
  const logins: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/tokens') logins.push(r.url());
  });
  await loginPage.goto();
  await loginPage.fill(me.username, me.password);
  await loginPage.submit.click();
  // The page waits for the code it sends with: nothing has gone out yet.
  await expect(page.getByRole('button', { name: 'Logging in…' })).toBeDisabled();
  await expect.poll(() => held).toBe(true);
  expect(logins).toHaveLength(0);
  release();
  await shell.expectLoggedInAs(me.username);
  expect(logins).toHaveLength(1);
});

test('a login whose session chunk cannot be fetched says so, and the next try logs in', async ({
  request,
  page,
  loginPage,
  shell,
  consoleErrors,
}) => {
  consoleErrors.allowChunkFailure();
  const me = newAccount('nochunk');
  await register(request, me);
  // The prefetch once the page is painted, and the fetch of the first login.
  const session = await failOnce(page, 'split_session', 2);
  await loginPage.goto();
  await expect.poll(() => session.requests).toBe(1);
  await loginPage.fill(me.username, me.password);
  await loginPage.submit.click();
  await expect(loginPage.alert).toContainText('Cannot reach the server');
  // Nothing typed is lost.
  await expect(loginPage.username).toHaveValue(me.username);
  await loginPage.submit.click();
  await shell.expectLoggedInAs(me.username);
  expect(session.requests).toBe(3);
});

test('a chunk that fails to load shows an error with a retry that works', async ({
  request,
  page,
  loginPage,
  shell,
  consoleErrors,
}) => {
  consoleErrors.allowChunkFailure();
  const me = newAccount('retry');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);
  const failed = page.getByRole('heading', { name: 'This part of the app could not be loaded', level: 1 });
  const retry = page.getByRole('button', { name: 'Try again' });

  // By a deep link.
  const password = await failOnce(page, 'split_settings');
  await page.goto('/settings/password');
  await expect(failed).toBeVisible();
  await expect(page.getByRole('main').getByRole('alert')).toContainText('did not arrive');
  // The rest of the app still runs.
  await shell.expectLoggedInAs(me.username);
  await retry.click();
  await expect(page.getByRole('heading', { name: 'Change password', level: 1 })).toBeVisible();
  await expect(failed).toHaveCount(0);
  expect(password.requests).toBe(2);

  // By navigation, in an app that has been running for a while.
  const security = await failOnce(page, 'split_security');
  await shell.gotoOwnPage(me.username);
  await page.getByRole('main').getByRole('link', { name: 'Two-factor authentication' }).click();
  await expect(failed).toBeVisible();
  await retry.click();
  await expect(page.getByRole('heading', { name: 'Two-factor authentication', level: 1 })).toBeVisible();
  expect(security.requests).toBe(2);

  // A failed load is not remembered: leaving the page and coming back fetches anew (the
  // reset page, whose chunk a logged-in visitor has not fetched yet).
  const entry = await failOnce(page, 'split_entry');
  await page.goto('/reset');
  await expect(failed).toBeVisible();
  await shell.gotoFeed();
  await page.goBack();
  await expect(page.getByRole('heading', { name: 'Choose a new password', level: 1 })).toBeVisible();
  expect(entry.requests).toBe(2);
});
