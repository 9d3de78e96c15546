// Page objects for account security: forgotten and reset passwords, two-factor settings,
// and sessions.
import { type Locator, type Page, expect } from '@playwright/test';
import { Shell } from './app';

export class ForgotPasswordPage {
  readonly email: Locator;
  readonly submit: Locator;
  readonly sent: Locator;
  readonly alert: Locator;

  constructor(readonly page: Page) {
    this.email = page.getByLabel('Email address');
    this.submit = page.getByRole('button', { name: 'Send the link' });
    this.sent = page.getByRole('status').filter({ hasText: 'If an account exists for that address' });
    this.alert = page.getByRole('main').getByRole('alert').filter({ hasText: /\S/ });
  }

  async goto(): Promise<void> {
    await this.page.goto('/forgot');
    await expect(this.page.getByRole('heading', { name: 'Forgot password', level: 1 })).toBeVisible();
  }

  async request(email: string): Promise<void> {
    await this.email.fill(email);
    await this.submit.click();
    await expect(this.sent).toBeVisible();
  }
}

export class ResetPasswordPage {
  readonly heading: Locator;
  readonly password: Locator;
  readonly password2: Locator;
  readonly submit: Locator;
  readonly alert: Locator;
  readonly newLink: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Choose a new password', level: 1 });
    this.password = page.getByLabel('New password', { exact: true });
    this.password2 = page.getByLabel('New password again');
    this.submit = page.getByRole('button', { name: 'Set the new password' });
    this.alert = page.getByRole('main').getByRole('alert').filter({ hasText: /\S/ });
    this.newLink = page.getByRole('link', { name: 'Request a new link' });
  }

  /** Opens the emailed link; the page takes the token out of the address at once. */
  async open(link: string): Promise<void> {
    await this.page.goto(link);
    await expect(this.heading).toBeVisible();
    await expect(this.page).toHaveURL(/\/reset$/);
  }

  async fill(password: string): Promise<void> {
    await this.password.fill(password);
    await this.password2.fill(password);
    await this.submit.click();
  }
}

/** The two-factor settings page. */
export class TwoFactorPage {
  readonly status: Locator;
  readonly turnOn: Locator;
  readonly turnOff: Locator;
  readonly newCodes: Locator;
  readonly password: Locator;
  readonly code: Locator;
  readonly proofCode: Locator;
  readonly qrCode: Locator;
  readonly secret: Locator;
  readonly recoveryCodes: Locator;
  readonly saved: Locator;
  readonly alert: Locator;

  constructor(readonly page: Page) {
    this.status = page.getByRole('main').getByText(/^Two-factor authentication is (on|off)\./);
    this.turnOn = page.getByRole('button', { name: 'Turn on two-factor authentication' });
    this.turnOff = page.getByRole('button', { name: 'Turn off two-factor authentication' });
    this.newCodes = page.getByRole('button', { name: 'Get new recovery codes' });
    this.password = page.getByLabel('Your password');
    this.code = page.getByLabel('Code from the app', { exact: true });
    this.proofCode = page.getByLabel('Code from the app, or a recovery code');
    this.qrCode = page.getByRole('img', { name: /QR code/ });
    this.secret = page.getByLabel('Secret key');
    this.recoveryCodes = page.getByRole('region', { name: 'Save your recovery codes' }).getByRole('listitem');
    this.saved = page.getByRole('button', { name: 'I have saved these codes' });
    this.alert = page.getByRole('main').getByRole('alert').filter({ hasText: /\S/ });
  }

  async goto(): Promise<void> {
    await this.page.goto('/settings/security');
    await expect(this.page.getByRole('heading', { name: 'Two-factor authentication', level: 1 })).toBeVisible();
    await expect(this.status).toBeVisible();
  }

  /** Starts enrolment with the password; returns the secret shown for manual entry. */
  async start(password: string): Promise<string> {
    await this.turnOn.click();
    await this.password.fill(password);
    await this.page.getByRole('button', { name: 'Continue' }).click();
    await expect(this.qrCode).toBeVisible();
    return (await this.secret.innerText()).replace(/\s+/g, '');
  }

  /** Confirms enrolment with `code`; returns the recovery codes shown once. */
  async confirm(code: string): Promise<string[]> {
    await this.code.fill(code);
    await this.page.getByRole('button', { name: 'Turn on', exact: true }).click();
    await expect(this.recoveryCodes).toHaveCount(10);
    return (await this.recoveryCodes.allInnerTexts()).map((c) => c.trim());
  }

  /** Leaves the codes screen (they are gone from the page afterwards). */
  async dismissCodes(): Promise<void> {
    await this.saved.click();
    await expect(this.recoveryCodes).toHaveCount(0);
    await expect(this.status).toBeVisible();
  }

  /** The password-and-code form behind "Turn off" or "Get new recovery codes". */
  async prove(action: Locator, submit: string, password: string, code: string): Promise<void> {
    await action.click();
    await this.password.fill(password);
    await this.proofCode.fill(code);
    await this.page.getByRole('button', { name: submit, exact: true }).click();
  }
}

export class SessionsPage {
  readonly sessions: Locator;
  readonly current: Locator;
  readonly others: Locator;
  readonly logOutOthers: Locator;

  constructor(readonly page: Page) {
    const list = page.getByRole('main').getByRole('list');
    this.sessions = list.getByRole('listitem');
    this.current = this.sessions.filter({ hasText: 'This device' });
    this.others = this.sessions.filter({ hasNotText: 'This device' });
    this.logOutOthers = page.getByRole('button', { name: 'Log out all other sessions' });
  }

  async goto(): Promise<void> {
    await this.page.goto('/settings/sessions');
    await expect(this.page.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
    await expect(this.current).toHaveCount(1);
  }

  async logOut(session: Locator): Promise<void> {
    await session.getByRole('button', { name: 'Log out' }).click();
    await expect(new Shell(this.page).flash('That session has been logged out.')).toBeVisible();
  }
}
