// Journey 4: access tokens expire (the harness gives them a few seconds); work goes on
// without the user noticing, through a refresh. With two tabs open and both tokens
// expired, both recover and nobody is logged out.
//
// No sleeps: each test waits until the server itself refuses the token it saw the tab use.
import type { APIRequestContext, Page, Response } from '@playwright/test';
import { expect, newAccount, register, Shell, test } from '../pages/fixtures';

/** The last Bearer token `page` sent to the API (read off the wire, never from storage). */
function trackBearer(page: Page): () => string | undefined {
  let last: string | undefined;
  page.on('request', (request) => {
    const auth = request.headers()['authorization'];
    if (auth?.startsWith('Bearer ')) last = auth.slice('Bearer '.length);
  });
  return () => last;
}

/** Every answer to `PUT /api/tokens` that `page` received. */
function trackRefreshes(page: Page): Response[] {
  const refreshes: Response[] = [];
  page.on('response', (response) => {
    if (response.request().method() === 'PUT' && new URL(response.url()).pathname === '/api/tokens') {
      refreshes.push(response);
    }
  });
  return refreshes;
}

/** Waits until the server answers 401 to `token`. */
async function untilExpired(request: APIRequestContext, token: string): Promise<void> {
  await expect
    .poll(async () => (await request.get('/api/me', { headers: { Authorization: `Bearer ${token}` } })).status(), {
      timeout: 20_000,
      intervals: [500],
    })
    .toBe(401);
}

test('an expired access token is refreshed without the user noticing', async ({
  request,
  page,
  loginPage,
  feedPage,
  shell,
}) => {
  const me = newAccount('expiry');
  await register(request, me);
  const bearer = trackBearer(page);
  const refreshes = trackRefreshes(page);
  await loginPage.goto();
  await loginPage.login(me);
  const first = bearer();
  expect(first).toBeTruthy();

  await untilExpired(request, first!);
  const before = refreshes.length;
  await feedPage.write('Written after my token expired');

  await shell.expectLoggedInAs(me.username);
  expect(refreshes.length).toBeGreaterThan(before);
  expect(refreshes.slice(before).map((r) => r.status())).toEqual([200]);
  expect(bearer()).not.toBe(first);
  await expect(shell.flashes.getByText(/session|log in/i)).toHaveCount(0);
});

test('two tabs with expired tokens both recover, and nobody is logged out', async ({
  request,
  page,
  loginPage,
}) => {
  const me = newAccount('twotabs');
  await register(request, me);
  const bearerA = trackBearer(page);
  const refreshesA = trackRefreshes(page);
  await loginPage.goto();
  await loginPage.login(me);

  const tabB = await page.context().newPage();
  const bearerB = trackBearer(tabB);
  const refreshesB = trackRefreshes(tabB);
  await tabB.goto('/explore');
  await expect(tabB.getByRole('heading', { name: 'Explore', level: 1 })).toBeVisible();
  expect(bearerA()).toBeTruthy();
  expect(bearerB()).toBeTruthy();

  await untilExpired(request, bearerA()!);
  await untilExpired(request, bearerB()!);
  const [beforeA, beforeB] = [refreshesA.length, refreshesB.length];

  // Both tabs hit the API at the same moment with expired tokens.
  await Promise.all([
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Explore', exact: true }).click(),
    tabB.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Feed', exact: true }).click(),
  ]);
  for (const tab of [page, tabB]) {
    await expect(tab.getByRole('heading', { level: 1 })).toHaveText(/Explore|Feed/);
    await expect(tab.getByRole('status').filter({ hasText: 'Loading' })).toHaveCount(0);
    await expect(tab.getByRole('main').getByRole('alert')).toHaveCount(0);
    await new Shell(tab).expectLoggedInAs(me.username);
  }
  const statuses = [...refreshesA.slice(beforeA), ...refreshesB.slice(beforeB)].map((r) => r.status());
  expect(statuses.length).toBeGreaterThanOrEqual(2);
  expect(statuses.every((s) => s === 200)).toBe(true);

  // And the session survives: a reload in either tab is still logged in.
  await tabB.reload();
  await new Shell(tabB).expectLoggedInAs(me.username);
});
