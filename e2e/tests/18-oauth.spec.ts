// Journey 15: signing in with a provider (oauth2-mock-server, a real OpenID Connect
// provider process): sign up, log out, sign in again to the same account; a refusal at the
// provider; linking the provider to a password account; a 2FA account's second step; the
// last sign-in method kept, and a first password set.
import {
  enableTwoFactor,
  expect,
  newAccount,
  register,
  test,
  totp,
} from '../pages/fixtures';
import { SignInMethodsPage, providerDenies, providerUser } from '../pages/oauth';

const continueWithMock = (page: import('@playwright/test').Page) =>
  page.getByRole('link', { name: 'Continue with Mock' });

test('sign up with the provider, log out, sign in again to the same account', async ({
  context,
  page,
  loginPage,
  shell,
}) => {
  const subject = newAccount('oidc').username;
  await providerUser(context, subject);
  await loginPage.goto('/explore');
  await continueWithMock(page).click();
  // Back from the provider, signed up, where the person was going, and the code and state
  // gone from the address bar.
  await shell.expectLoggedInAs(subject);
  await expect(page.getByRole('heading', { name: 'Explore', level: 1 })).toBeVisible();
  expect(page.url()).not.toMatch(/[?&](code|state)=/);
  // Nothing of the flow in Web Storage but the (spent) landing path.
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
  expect(stored).not.toMatch(/code|state|token/i);

  await shell.logout();
  await continueWithMock(page).click();
  await shell.expectLoggedInAs(subject);
  await shell.gotoOwnPage(subject);
});

test('the register page offers the provider too', async ({ page, registerPage }) => {
  await registerPage.goto();
  await expect(continueWithMock(page)).toBeVisible();
});

test('a refusal at the provider says so and offers a way back', async ({ context, page, shell }) => {
  await providerDenies(context);
  await page.goto('/login');
  await continueWithMock(page).click();
  await expect(page.getByRole('heading', { name: 'Not signed in', level: 1 })).toBeVisible();
  await expect(page.getByRole('main').getByRole('alert')).toHaveText(
    'You did not allow the provider to sign you in, so you are not signed in.',
  );
  expect(page.url()).not.toContain('error=');
  await page.getByRole('link', { name: 'Back to the login page' }).click();
  await expect(page.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
  await shell.expectLoggedOut();
});

test('a callback that was not started in this browser is refused', async ({ consoleErrors, page, shell }) => {
  consoleErrors.allowApiError(401, '/api/tokens/oauth2/mock');
  await page.goto('/oauth2/mock/callback?code=stolen&state=forged');
  await expect(page.getByRole('heading', { name: 'Not signed in', level: 1 })).toBeVisible();
  await expect(page.getByRole('main').getByRole('alert')).toContainText('was not started in this browser');
  expect(page.url()).not.toContain('code=');
  await shell.expectLoggedOut();
});

test('link the provider to a password account, then sign in with it', async ({
  context,
  page,
  loginPage,
  shell,
  request,
}) => {
  const me = newAccount('linker');
  await register(request, me);
  await providerUser(context, `${me.username}_at_mock`);
  await loginPage.goto();
  await loginPage.login(me);
  const methods = new SignInMethodsPage(page);
  await methods.goto();
  await expect(page.getByText('No provider is linked to your account.')).toBeVisible();
  await methods.password.fill(me.password);
  await methods.link('Mock').click();
  await expect(shell.flash('Mock is now linked: you can sign in with it.')).toBeVisible();
  await expect(methods.unlink('Mock')).toBeVisible();

  await shell.logout();
  await continueWithMock(page).click();
  await shell.expectLoggedInAs(me.username);
});

test('a 2FA account signing in through the provider gets its second step', async ({
  context,
  page,
  loginPage,
  shell,
  request,
}) => {
  const me = newAccount('twofa');
  await register(request, me);
  await providerUser(context, `${me.username}_at_mock`);
  await loginPage.goto();
  await loginPage.login(me);
  const methods = new SignInMethodsPage(page);
  await methods.goto();
  await methods.password.fill(me.password);
  await methods.link('Mock').click();
  await expect(methods.unlink('Mock')).toBeVisible();
  await shell.logout();
  const { secret, step } = await enableTwoFactor(request, me);

  await continueWithMock(page).click();
  await expect(page.getByRole('heading', { name: 'Two-factor authentication', level: 1 })).toBeVisible();
  await shell.expectLoggedOut();
  await page.getByLabel('Code', { exact: true }).fill(totp(secret, step + 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await shell.expectLoggedInAs(me.username);
});

test('the only sign-in method stays; a first password can be set', async ({
  consoleErrors,
  context,
  page,
  loginPage,
  shell,
}) => {
  consoleErrors.allowApiError(409, '/api/me/oauth2/mock');
  const subject = newAccount('only').username;
  await providerUser(context, subject);
  await page.goto('/login');
  await continueWithMock(page).click();
  await shell.expectLoggedInAs(subject);
  const methods = new SignInMethodsPage(page);
  await methods.goto();
  await methods.unlink('Mock').click();
  await expect(shell.flash(/This is your only way to sign in/)).toBeVisible();

  const password = 'a first password for this';
  await methods.newPassword.fill(password);
  await methods.newPassword2.fill(password);
  await page.getByRole('button', { name: 'Set password' }).click();
  await expect(shell.flash('Your password has been set: you can also log in with it.')).toBeVisible();
  await shell.logout();
  await loginPage.login({ username: subject, email: `${subject}@example.com`, password });
});
