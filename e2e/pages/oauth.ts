// Signing in with the journeys' provider (fixtures/oauth-provider.mjs): who signs in there
// is a cookie of the test's own browser context, on the provider's origin.
import { type BrowserContext, type Locator, type Page, expect } from '@playwright/test';

const issuer = process.env.E2E_OAUTH_ISSUER ?? '';

/** The next sign-ins at the provider are as `subject` (email `<subject>@example.com`). */
export async function providerUser(context: BrowserContext, subject: string): Promise<void> {
  await context.addCookies([{ name: 'mock_user', value: subject, url: issuer }]);
}

/** The person refuses at the provider from now on. */
export async function providerDenies(context: BrowserContext): Promise<void> {
  await context.addCookies([{ name: 'mock_deny', value: '1', url: issuer }]);
}

/** Settings → Sign-in methods. */
export class SignInMethodsPage {
  readonly heading: Locator;
  readonly password: Locator;
  readonly newPassword: Locator;
  readonly newPassword2: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Sign-in methods', level: 1 });
    this.password = page.getByLabel('Your password');
    this.newPassword = page.getByLabel('New password', { exact: true });
    this.newPassword2 = page.getByLabel('New password again');
  }

  async goto(): Promise<void> {
    await this.page.goto('/settings/sign-in');
    await expect(this.heading).toBeVisible();
  }

  link(provider: string): Locator {
    return this.page.getByRole('button', { name: `Link ${provider}` });
  }

  unlink(provider: string): Locator {
    return this.page.getByRole('button', { name: `Unlink ${provider}` });
  }
}
