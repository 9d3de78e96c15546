// Journey 5: logging out in one tab logs out every tab at once; a reload stays logged out;
// the old refresh cookie no longer works.
import { request as playwrightRequest } from '@playwright/test';
import { expect, newAccount, register, Shell, test } from '../pages/fixtures';

test('logout in one tab logs out the other at once, for good', async ({ consoleErrors, request, page, loginPage, shell, baseURL }) => {
  // The replayed old cookie is refused, as it must be.
  consoleErrors.allowApiError(401, '/api/tokens');
  const me = newAccount('leaver');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);

  const other = await page.context().newPage();
  const otherShell = new Shell(other);
  await other.goto(`/user/${me.username}`);
  await otherShell.expectLoggedInAs(me.username);

  const cookie = (await page.context().cookies()).find((c) => c.name === 'refresh_token');
  expect(cookie, 'the refresh cookie').toBeTruthy();

  await shell.logout();
  await shell.expectLoggedOut();

  // The other tab drops its state without a reload: its private page gives way to login.
  await otherShell.expectLoggedOut();
  await expect(other.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();

  await other.reload();
  await expect(other.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
  await otherShell.expectLoggedOut();
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
  await shell.expectLoggedOut();

  // Replaying the old cookie, from anywhere, gets nothing.
  const replay = await playwrightRequest.newContext({ baseURL: process.env.E2E_API_URL ?? baseURL });
  const response = await replay.put('/api/tokens', {
    headers: { Cookie: `refresh_token=${cookie!.value}`, 'Content-Type': 'application/json' },
    data: {},
  });
  expect(response.status()).toBe(401);
  await replay.dispose();
});

test('logging in in one tab logs in a tab waiting on the login page', async ({ request, page, loginPage, shell }) => {
  const me = newAccount('joiner');
  await register(request, me);
  await loginPage.goto('/explore');
  const other = await page.context().newPage();
  await other.goto('/');
  await expect(other).toHaveURL(/\/login\?next=%2F$/);

  await loginPage.login(me);
  await expect(page).toHaveURL('/explore');
  await shell.expectLoggedInAs(me.username);

  // The other tab restores the session from the new cookie and goes where it was heading.
  await new Shell(other).expectLoggedInAs(me.username);
  await expect(other).toHaveURL('/');
  await expect(other.getByRole('heading', { name: 'Feed', level: 1 })).toBeVisible();
});

test('a session revoked on the server ends in every tab at the first refused refresh', async ({
  consoleErrors,
  request,
  page,
  loginPage,
  shell,
}) => {
  consoleErrors.allowApiError(401, '/api/tokens');
  const me = newAccount('revoked');
  await register(request, me);
  let bearer: string | undefined;
  page.on('request', (r) => {
    const auth = r.headers()['authorization'];
    if (auth?.startsWith('Bearer ')) bearer = auth.slice('Bearer '.length);
  });
  await loginPage.goto();
  await loginPage.login(me);
  const other = await page.context().newPage();
  // The other tab's page must have its posts before the revocation: a request of its own
  // still on its way would find the session gone first, and end it in both tabs.
  const posts = other.waitForResponse((r) => new URL(r.url()).pathname === '/api/posts');
  await other.goto('/explore');
  await new Shell(other).expectLoggedInAs(me.username);
  expect((await posts).status()).toBe(200);
  expect(bearer).toBeTruthy();

  // Revoke the session behind the app's back (as a logout on another device would).
  const revoked = await request.delete('/api/tokens', {
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
  });
  expect(revoked.status()).toBe(204);

  await shell.nav.getByRole('link', { name: 'Explore', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
  await expect(shell.flash('Your session has ended. Please log in again.')).toBeVisible();
  await shell.expectLoggedOut();
  // The other tab did nothing, yet it is logged out too.
  await new Shell(other).expectLoggedOut();
});
