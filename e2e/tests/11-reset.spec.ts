// Journey 11: a forgotten password, reset through the link in the outbox email. The token
// leaves the address bar at once and is never stored; the old password stops working.
import { expect, newAccount, register, resetLink, test } from '../pages/fixtures';

test('a forgotten password is reset through the emailed link', async ({
  consoleErrors,
  request,
  page,
  loginPage,
  forgotPage,
  resetPage,
  shell,
}) => {
  // The reset ends every session: the old one's refresh is refused.
  consoleErrors.allowApiError(401, '/api/tokens');
  const me = newAccount('forgetful');
  await register(request, me);
  await loginPage.goto();
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('heading', { name: 'Forgot password', level: 1 })).toBeVisible();
  await forgotPage.request(me.email);

  const link = await resetLink(me.email);
  const token = new URL(link).searchParams.get('token')!;
  expect(token.length).toBeGreaterThanOrEqual(20);
  await resetPage.open(link);
  // The token is gone from the address, and nothing kept it.
  expect(page.url()).not.toContain(token);
  const kept = await page.evaluate(() =>
    [location.href, document.cookie, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })].join(),
  );
  expect(kept).not.toContain(token);
  // Nor does any request from the page carry its address as a Referer.
  await expect(page.locator('meta[name="referrer"]')).toHaveAttribute('content', 'no-referrer');

  const newPassword = `${me.password}-renewed`;
  await resetPage.fill(newPassword);
  await expect(shell.flash(/Your password has been changed/)).toBeVisible();
  await expect(page).toHaveURL('/login');

  // The old password fails; the new one works.
  await loginPage.fill(me.username, me.password);
  await loginPage.submit.click();
  await expect(loginPage.alert).toHaveText('Invalid username or password.');
  await loginPage.fill(me.username, newPassword);
  await loginPage.submit.click();
  await shell.expectLoggedInAs(me.username);
});

test('a used reset link is refused, with a way to ask for a new one', async ({ consoleErrors, request, page, resetPage }) => {
  consoleErrors.allowApiError(400, '/api/tokens/reset');
  const me = newAccount('twice');
  await register(request, me);
  expect((await request.post('/api/tokens/reset', { data: { email: me.email } })).status()).toBe(204);
  const link = await resetLink(me.email);

  await resetPage.open(link);
  await resetPage.fill(`${me.password}-first`);
  await expect(page).toHaveURL('/login');

  await resetPage.open(link);
  await resetPage.fill(`${me.password}-second`);
  await expect(resetPage.alert).toContainText('invalid, expired or already used');
  await resetPage.newLink.click();
  await expect(page.getByRole('heading', { name: 'Forgot password', level: 1 })).toBeVisible();
});

test('the new password is checked before it is sent', async ({ consoleErrors, page, resetPage }) => {
  consoleErrors.allowApiError(400, '/api/tokens/reset');
  await resetPage.open('/reset?token=not-a-real-token');
  await resetPage.password.fill('short');
  await resetPage.password2.fill('different');
  await resetPage.submit.click();
  await expect(resetPage.password).toHaveAttribute('aria-invalid', 'true');
  await expect(resetPage.password2).toHaveAttribute('aria-invalid', 'true');
  // A token the server does not know: the same answer as a used one.
  await resetPage.fill('a long enough password');
  await expect(resetPage.alert).toContainText('Request a new one');
  await expect(page).toHaveURL('/reset');
});

test('too many reset requests show how long to wait', async ({ consoleErrors, request, forgotPage }) => {
  consoleErrors.allowApiError(429, '/api/tokens/reset');
  // Three requests per address and quarter hour (the server's default); an unknown address
  // is counted the same, so the limit tells nothing about who has an account.
  const email = `${newAccount('nobody').username}@example.test`;
  for (let i = 0; i < 3; i++) {
    expect((await request.post('/api/tokens/reset', { data: { email } })).status()).toBe(204);
  }
  await forgotPage.goto();
  await forgotPage.email.fill(email);
  await forgotPage.submit.click();
  await expect(forgotPage.alert).toHaveText(/^Too many attempts\. Try again in \d+ seconds\.$/);
  await expect(forgotPage.sent).toHaveCount(0);
});
