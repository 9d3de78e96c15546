// Journey 12: two-factor authentication. Turn it on by "scanning" the secret the page shows
// (the test computes the codes, as an authenticator app would), then log in with a code,
// with a recovery code, and fail with a replayed code.
import {
  codeFromKey,
  currentStep,
  enableTwoFactor,
  expect,
  newAccount,
  register,
  test,
  totp,
  wrongCode,
} from '../pages/fixtures';

test('the test authenticator matches RFC 6238', () => {
  // Appendix B, SHA-1: the 8-digit codes end in these 6 digits.
  const key = Buffer.from('12345678901234567890');
  expect(codeFromKey(key, Math.floor(59 / 30))).toBe('287082');
  expect(codeFromKey(key, Math.floor(1111111109 / 30))).toBe('081804');
  expect(codeFromKey(key, Math.floor(20000000000 / 30))).toBe('353130');
});

test('turn on 2FA, log in with a code and with a recovery code; a replayed code fails', async ({
  consoleErrors,
  request,
  page,
  loginPage,
  shell,
  twoFactorPage,
}) => {
  consoleErrors.allowApiError(401, '/api/tokens/2fa');
  const me = newAccount('twofactor');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);

  await shell.gotoOwnPage(me.username);
  await page.getByRole('link', { name: 'Two-factor authentication' }).click();
  await expect(twoFactorPage.status).toHaveText('Two-factor authentication is off.');
  const secret = await twoFactorPage.start(me.password);
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);

  // The server accepts the steps around its own (T-1..T+1) and, after a code is used,
  // only newer steps. Enrolment takes this step's code; the first login then uses the
  // next step's (what the app shows 30 s later), so no test waits for the clock.
  const step = currentStep();
  const recoveryCodes = await twoFactorPage.confirm(totp(secret, step));
  expect(new Set(recoveryCodes).size).toBe(10);
  await twoFactorPage.dismissCodes();
  await expect(twoFactorPage.status).toHaveText('Two-factor authentication is on. 10 recovery codes are left.');
  await shell.logout();

  // Password, then a wrong code, then the right one.
  let codeStep = await loginPage.toCodeStep(me);
  await expect(codeStep.code).toBeFocused();
  await expect(codeStep.code).toHaveAttribute('autocomplete', 'one-time-code');
  await expect(codeStep.code).toHaveAttribute('inputmode', 'numeric');
  await shell.expectLoggedOut();
  await codeStep.code.fill(wrongCode(secret, currentStep()));
  await codeStep.verify.click();
  await expect(codeStep.alert).toHaveText('The code is incorrect.');
  const used = totp(secret, step + 1);
  await codeStep.enterCode(used, me.username);
  await shell.logout();

  // A recovery code instead; it works once.
  codeStep = await loginPage.toCodeStep(me);
  await codeStep.enterRecoveryCode(recoveryCodes[0], me.username);
  await page.goto('/settings/security');
  await expect(twoFactorPage.status).toHaveText('Two-factor authentication is on. 9 recovery codes are left.');
  await shell.logout();

  // The code used above, again: its step is not newer than the last one accepted. (It is
  // still inside the server's window: that lasts at least 60 s after enrolment.)
  expect(currentStep()).toBeLessThanOrEqual(step + 2);
  codeStep = await loginPage.toCodeStep(me);
  await codeStep.code.fill(used);
  await codeStep.verify.click();
  await expect(codeStep.alert).toContainText('This code was already used.');
  await expect(codeStep.heading).toBeVisible();
  await shell.expectLoggedOut();
  // The used recovery code is refused too.
  await codeStep.useRecoveryCode.click();
  await codeStep.recoveryCode.fill(recoveryCodes[0]);
  await codeStep.verify.click();
  await expect(codeStep.alert).toHaveText('The recovery code is incorrect or was already used.');
  await shell.expectLoggedOut();
});

test('new recovery codes and turning 2FA off need the password and a code', async ({
  consoleErrors,
  request,
  page,
  loginPage,
  shell,
  twoFactorPage,
}) => {
  consoleErrors.allowApiError(400, '/api/me/2fa/recovery-codes');
  consoleErrors.allowApiError(400, '/api/me/2fa');
  const me = newAccount('untwofactor');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);
  await twoFactorPage.goto();
  const secret = await twoFactorPage.start(me.password);
  const first = await twoFactorPage.confirm(totp(secret, currentStep()));
  await twoFactorPage.dismissCodes();

  // A wrong password is refused beside the field.
  await twoFactorPage.prove(twoFactorPage.newCodes, 'Get new codes', 'not my password', first[0]);
  await expect(twoFactorPage.password).toHaveAttribute('aria-invalid', 'true');
  await page.getByRole('button', { name: 'Cancel' }).click();

  await twoFactorPage.prove(twoFactorPage.newCodes, 'Get new codes', me.password, first[0]);
  await expect(twoFactorPage.recoveryCodes).toHaveCount(10);
  const second = (await twoFactorPage.recoveryCodes.allInnerTexts()).map((c) => c.trim());
  expect(second).not.toContain(first[1]);
  await twoFactorPage.dismissCodes();

  // An old code no longer works; a new one does.
  await twoFactorPage.prove(twoFactorPage.turnOff, 'Turn off', me.password, first[1]);
  await expect(twoFactorPage.proofCode).toHaveAttribute('aria-invalid', 'true');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await twoFactorPage.prove(twoFactorPage.turnOff, 'Turn off', me.password, second[0]);
  await expect(shell.flash('Two-factor authentication is off.')).toBeVisible();
  await expect(twoFactorPage.status).toHaveText('Two-factor authentication is off.');

  // The password alone logs in again.
  await shell.logout();
  await loginPage.login(me);
});

test('a sign-in left waiting past its challenge goes back to the password step', async ({
  request,
  page,
  loginPage,
  shell,
}) => {
  const me = newAccount('slowpoke');
  await register(request, me);
  const { secret, step } = await enableTwoFactor(request, me);
  // The page's clock, so the five minutes of the challenge pass at once.
  await page.clock.install();
  await loginPage.goto();
  let codeStep = await loginPage.toCodeStep(me);

  // "Start over" goes back at any time.
  await page.getByRole('button', { name: 'Start over with your password' }).click();
  await expect(loginPage.password).toBeFocused();
  codeStep = await loginPage.toCodeStep(me);

  await page.clock.fastForward('05:01');
  await expect(page.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
  await expect(loginPage.alert).toHaveText('This sign-in has expired. Log in again with your password.');
  await expect(codeStep.code).toHaveCount(0);

  // A new password step, a new challenge: the code works.
  codeStep = await loginPage.toCodeStep(me);
  await codeStep.enterCode(totp(secret, step + 1), me.username);
  await shell.expectLoggedInAs(me.username);
});

test('five wrong codes use the sign-in up: the next attempt goes back to the password step', async ({
  request,
  page,
  loginPage,
  shell,
  consoleErrors,
}) => {
  // Five wrong codes, then the dead challenge: all on purpose.
  consoleErrors.allowApiError(401, '/api/tokens/2fa');
  consoleErrors.allowApiError(410, '/api/tokens/2fa');
  const me = newAccount('fumbler');
  await register(request, me);
  const { secret, step } = await enableTwoFactor(request, me);
  await loginPage.goto();
  const codeStep = await loginPage.toCodeStep(me);

  // The server lets one challenge survive five wrong codes (the default), each refused
  // on the code step.
  const attempt = async (code: string): Promise<number> => {
    const answer = page.waitForResponse(
      (r) => r.url().endsWith('/api/tokens/2fa') && r.request().method() === 'POST',
    );
    await codeStep.code.fill(code);
    await codeStep.verify.click();
    return (await answer).status();
  };
  for (let n = 1; n <= 5; n++) {
    expect(await attempt(wrongCode(secret, currentStep())), `wrong code ${n}`).toBe(401);
    await expect(codeStep.alert).toHaveText('The code is incorrect.');
    await expect(codeStep.heading).toBeVisible();
  }

  // The sixth finds the challenge gone (410 Gone): back to the password, saying why,
  // long before the page's own five-minute timer.
  expect(await attempt(wrongCode(secret, currentStep()))).toBe(410);
  await expect(page.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
  await expect(loginPage.alert).toHaveText('That sign-in attempt expired. Enter your password again.');
  await expect(loginPage.password).toBeFocused();
  await expect(codeStep.code).toHaveCount(0);
  await shell.expectLoggedOut();

  // A new password step, a new challenge: the code works.
  const again = await loginPage.toCodeStep(me);
  await again.enterCode(totp(secret, step + 1), me.username);
  await shell.expectLoggedInAs(me.username);
});
