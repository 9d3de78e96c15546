// Journey 8: bad input and a failing API each get a clear message, and nothing the user
// typed is lost.
import { expect, newAccount, register, test } from '../pages/fixtures';

test('a wrong password says so and keeps what was typed', async ({ consoleErrors, request, loginPage, page }) => {
  consoleErrors.allowApiError(401, '/api/tokens');
  const me = newAccount('forgetful');
  await register(request, me);

  await loginPage.goto();
  await loginPage.fill(me.username, 'not-my-password');
  await loginPage.submit.click();

  await expect(loginPage.alert).toHaveText('Invalid username or password.');
  await expect(loginPage.username).toHaveValue(me.username);
  await expect(loginPage.password).toHaveValue('not-my-password');
  await expect(page).toHaveURL('/login');
});

test('a taken username is flagged beside the field', async ({ consoleErrors, request, registerPage }) => {
  consoleErrors.allowApiError(400, '/api/users');
  const first = newAccount('taken');
  await register(request, first);
  const second = { ...newAccount('second'), username: first.username };

  await registerPage.goto();
  await registerPage.fill(second);
  await registerPage.submit.click();

  await expect(registerPage.username).toHaveAttribute('aria-invalid', 'true');
  expect(await registerPage.errorFor(registerPage.username)).not.toBe('');
  await expect(registerPage.username).toHaveValue(first.username);
  await expect(registerPage.email).toHaveValue(second.email);
  await expect(registerPage.password).toHaveValue(second.password);
  await expect(registerPage.password2).toHaveValue(second.password);
});

test('a too-short or mismatched password is flagged before anything is sent', async ({ registerPage, page }) => {
  const me = newAccount('short');
  let sent = false;
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/api/users')) sent = true;
  });

  await registerPage.goto();
  await registerPage.fill({ ...me, password: 'short' }, 'shorter');
  await registerPage.submit.click();

  await expect(registerPage.password).toHaveAttribute('aria-invalid', 'true');
  expect(await registerPage.errorFor(registerPage.password)).toMatch(/at least 8 characters/);
  expect(await registerPage.errorFor(registerPage.password2)).toMatch(/do not match/);
  await expect(registerPage.username).toHaveValue(me.username);
  await expect(registerPage.email).toHaveValue(me.email);
  expect(sent).toBe(false);
});

test('an empty post is refused with a message', async ({ request, loginPage, feedPage, page }) => {
  const me = newAccount('quiet');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);

  await feedPage.box.fill('   ');
  await feedPage.submit.click();

  await expect(feedPage.box).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText(/cannot be empty/)).toBeVisible();
  await expect(feedPage.posts.list).toHaveCount(0);
});

test('an API that is down gets a clear message and the post is kept', async ({
  consoleErrors,
  request,
  loginPage,
  feedPage,
  page,
}) => {
  consoleErrors.allowApiError('refused', '/api/posts');
  const me = newAccount('offline');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);

  await page.route('**/api/posts', (route) => route.abort('connectionrefused'));
  const text = 'This must not be lost';
  await feedPage.box.fill(text);
  await feedPage.submit.click();

  await expect(page.getByText(/Cannot reach the server/)).toBeVisible();
  await expect(feedPage.box).toHaveValue(text);

  await page.unroute('**/api/posts');
  await feedPage.submit.click();
  await feedPage.posts.expectShown(text);
  await expect(feedPage.box).toHaveValue('');
});

test('a failing list offers to try again', async ({ consoleErrors, request, loginPage, page }) => {
  consoleErrors.allowApiError('refused', '/api/posts');
  const me = newAccount('retry');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);

  await page.route('**/api/posts?*', (route) => route.abort('connectionrefused'));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Explore', exact: true }).click();
  const alert = page.getByRole('main').getByRole('alert');
  await expect(alert).toContainText('Cannot reach the server');

  await page.unroute('**/api/posts?*');
  await alert.getByRole('button', { name: 'Try again' }).click();
  await expect(alert).toHaveCount(0);
});
