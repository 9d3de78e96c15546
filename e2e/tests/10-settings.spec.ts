// Beyond the nine journeys: editing one's profile and changing one's password, with the
// server's answers shown beside the fields.
import { expect, newAccount, register, test } from '../pages/fixtures';

test('editing the profile changes the user page', async ({ consoleErrors, request, page, loginPage, shell }) => {
  consoleErrors.allowApiError(400, '/api/me');
  const me = newAccount('editor');
  const taken = newAccount('taken');
  await register(request, me);
  await register(request, taken);
  await loginPage.goto();
  await loginPage.login(me);

  await shell.gotoOwnPage(me.username);
  await page.getByRole('link', { name: 'Edit profile' }).click();
  await expect(page.getByRole('heading', { name: 'Edit profile', level: 1 })).toBeVisible();
  const username = page.getByLabel('Username');
  await expect(username).toHaveValue(me.username);
  await expect(page.getByLabel('Email address')).toHaveValue(me.email);

  // Someone else's name is refused beside the field, and what was typed stays.
  await username.fill(taken.username);
  await page.getByLabel('About me').fill('I like short posts.');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(username).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('About me')).toHaveValue('I like short posts.');

  const renamed = `${me.username}_x`;
  await username.fill(renamed);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(shell.flash('Your profile has been updated.')).toBeVisible();
  await expect(page).toHaveURL(`/user/${renamed}`);
  await expect(page.getByRole('heading', { name: renamed, level: 1 })).toBeVisible();
  await expect(page.getByText('I like short posts.')).toBeVisible();
  await shell.expectLoggedInAs(renamed);
});

test('changing the password needs the current one', async ({ consoleErrors, request, page, loginPage, shell }) => {
  consoleErrors.allowApiError(400, '/api/me');
  const me = newAccount('rotator');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);
  const newPassword = `${me.password}-new`;

  await page.goto('/settings/password');
  const current = page.getByLabel('Current password');
  await current.fill('not-the-password');
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('New password again').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('main').getByRole('alert').filter({ hasText: /\S/ }).first()).toBeVisible();
  await expect(current).toHaveValue('not-the-password');
  await expect(page).toHaveURL('/settings/password');

  await current.fill(me.password);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(shell.flash('Your password has been changed.')).toBeVisible();
  await expect(page).toHaveURL(`/user/${me.username}`);

  await shell.logout();
  await loginPage.login({ ...me, password: newPassword });
});

test('changing the email needs the current password, shown beside its field', async ({
  request,
  page,
  loginPage,
  shell,
  consoleErrors,
}) => {
  // A missing, then a wrong, current password: refused on purpose.
  consoleErrors.allowApiError(400, '/api/me');
  const me = newAccount('mover');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);
  const newEmail = `moved-${me.email}`;

  await page.goto('/settings/profile');
  const email = page.getByLabel('Email address');
  await expect(email).toHaveValue(me.email);
  const current = page.getByLabel('Current password');
  const currentError = page.locator('#old_password-error');
  const save = page.getByRole('button', { name: 'Save' });
  // Not asked while the email stays; asked as soon as it differs.
  await expect(current).toHaveCount(0);
  await email.fill(newEmail);
  await expect(current).toBeVisible();
  await expect(current).toHaveAttribute('autocomplete', 'current-password');
  await expect(current).toHaveAttribute('aria-describedby', 'old_password-hint old_password-error');
  await email.fill(me.email);
  await expect(current).toHaveCount(0);
  await email.fill(newEmail);

  // Left empty: the page says so beside the field, before asking the server.
  await save.click();
  await expect(current).toHaveAttribute('aria-invalid', 'true');
  await expect(currentError).toHaveText('Enter your current password to change your email.');

  // A wrong one: the server's error, beside the same field; nothing changed.
  await current.fill('not-the-password');
  await save.click();
  await expect(currentError).toHaveText('The current password is wrong.');
  await expect(current).toHaveAttribute('aria-invalid', 'true');
  await expect(email).toHaveValue(newEmail);
  await expect(page).toHaveURL('/settings/profile');

  // The right one saves, and the new address is the account's.
  await current.fill(me.password);
  await save.click();
  await expect(shell.flash('Your profile has been updated.')).toBeVisible();
  await expect(page).toHaveURL(`/user/${me.username}`);
  await page.goto('/settings/profile');
  await expect(page.getByLabel('Email address')).toHaveValue(newEmail);
  await expect(page.getByLabel('Current password')).toHaveCount(0);
  await shell.logout();
  await loginPage.login({ ...me, email: newEmail }, 'email');
});
