// Page objects: what a person sees and does on each page, by role and label.
import { type Locator, type Page, expect } from '@playwright/test';
import type { Account } from './api';

/** The header and flash messages, present on every page. */
export class Shell {
  readonly header: Locator;
  readonly nav: Locator;
  readonly flashes: Locator;
  readonly heading: Locator;
  /** The header's theme switch (System, Light or Dark theme). */
  readonly theme: Locator;

  constructor(readonly page: Page) {
    this.header = page.getByRole('banner');
    this.nav = page.getByRole('navigation', { name: 'Main' });
    this.flashes = page.getByRole('region', { name: 'Notifications' });
    this.heading = page.getByRole('heading', { level: 1 });
    this.theme = this.header.getByRole('combobox', { name: 'Theme' });
  }

  /** Chooses a theme; the page follows at once. */
  async chooseTheme(theme: 'system' | 'light' | 'dark'): Promise<void> {
    await this.theme.selectOption(theme);
    if (theme === 'system') await expect(this.page.locator('html')).not.toHaveAttribute('data-theme');
    else await expect(this.page.locator('html')).toHaveAttribute('data-theme', theme);
  }

  userLink(username: string): Locator {
    return this.nav.getByRole('link', { name: username });
  }

  logoutButton(): Locator {
    return this.nav.getByRole('button', { name: 'Log out' });
  }

  loginLink(): Locator {
    return this.nav.getByRole('link', { name: 'Log in' });
  }

  async expectLoggedInAs(username: string): Promise<void> {
    await expect(this.userLink(username)).toBeVisible();
  }

  async expectLoggedOut(): Promise<void> {
    await expect(this.loginLink()).toBeVisible();
    await expect(this.logoutButton()).toHaveCount(0);
  }

  async logout(): Promise<void> {
    await this.logoutButton().click();
    await expect(this.page.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
  }

  async gotoFeed(): Promise<void> {
    await this.nav.getByRole('link', { name: 'Feed', exact: true }).click();
    await expect(this.page.getByRole('heading', { name: 'Feed', level: 1 })).toBeVisible();
  }

  async gotoExplore(): Promise<void> {
    await this.nav.getByRole('link', { name: 'Explore', exact: true }).click();
    await expect(this.page.getByRole('heading', { name: 'Explore', level: 1 })).toBeVisible();
  }

  async gotoOwnPage(username: string): Promise<void> {
    await this.userLink(username).click();
    await expect(this.page.getByRole('heading', { name: username, level: 1 })).toBeVisible();
  }

  flash(text: string | RegExp): Locator {
    return this.flashes.getByText(text);
  }
}

export class LoginPage {
  readonly username: Locator;
  readonly password: Locator;
  readonly submit: Locator;
  readonly alert: Locator;

  constructor(readonly page: Page) {
    this.username = page.getByLabel('Username or email address');
    this.password = page.getByLabel('Password', { exact: true });
    this.submit = page.getByRole('button', { name: 'Log in' });
    this.alert = page.getByRole('main').getByRole('alert');
  }

  async goto(next?: string): Promise<void> {
    await this.page.goto(next ? `/login?next=${encodeURIComponent(next)}` : '/login');
    await expect(this.page.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
  }

  async fill(login: string, password: string): Promise<void> {
    await this.username.fill(login);
    await this.password.fill(password);
  }

  /** Logs in and waits until the app shows the user as logged in. */
  async login(account: Account, by: 'username' | 'email' = 'username'): Promise<void> {
    await this.fill(by === 'email' ? account.email : account.username, account.password);
    await this.submit.click();
    await new Shell(this.page).expectLoggedInAs(account.username);
  }

  /** For a 2FA account: the password step, up to the code step. */
  async toCodeStep(account: Account): Promise<CodeStep> {
    await this.fill(account.username, account.password);
    await this.submit.click();
    const step = new CodeStep(this.page);
    await expect(step.heading).toBeVisible();
    return step;
  }
}

/** The second step of a login with two-factor authentication. */
export class CodeStep {
  readonly heading: Locator;
  readonly code: Locator;
  readonly recoveryCode: Locator;
  readonly verify: Locator;
  readonly useRecoveryCode: Locator;
  readonly alert: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Two-factor authentication', level: 1 });
    this.code = page.getByLabel('Code', { exact: true });
    this.recoveryCode = page.getByLabel('Recovery code');
    this.verify = page.getByRole('button', { name: 'Verify' });
    this.useRecoveryCode = page.getByRole('button', { name: 'Use a recovery code instead' });
    this.alert = page.getByRole('main').getByRole('alert').filter({ hasText: /\S/ });
  }

  /** Sends a code from the app and waits until logged in as `username`. */
  async enterCode(code: string, username: string): Promise<void> {
    await this.code.fill(code);
    await this.verify.click();
    await new Shell(this.page).expectLoggedInAs(username);
  }

  async enterRecoveryCode(code: string, username: string): Promise<void> {
    await this.useRecoveryCode.click();
    await expect(this.recoveryCode).toBeFocused();
    await this.recoveryCode.fill(code);
    await this.verify.click();
    await new Shell(this.page).expectLoggedInAs(username);
  }
}

export class RegisterPage {
  readonly username: Locator;
  readonly email: Locator;
  readonly password: Locator;
  readonly password2: Locator;
  readonly submit: Locator;

  constructor(readonly page: Page) {
    this.username = page.getByLabel('Username');
    this.email = page.getByLabel('Email address');
    this.password = page.getByLabel('Password', { exact: true });
    this.password2 = page.getByLabel('Password again');
    this.submit = page.getByRole('button', { name: 'Register' });
  }

  async goto(): Promise<void> {
    await this.page.goto('/register');
    await expect(this.page.getByRole('heading', { name: 'Register', level: 1 })).toBeVisible();
  }

  async fill(account: Account, confirm = account.password): Promise<void> {
    await this.username.fill(account.username);
    await this.email.fill(account.email);
    await this.password.fill(account.password);
    await this.password2.fill(confirm);
  }

  /** The error text shown beside a field (tied to it with aria-describedby). */
  errorFor(field: Locator): Promise<string | null> {
    return field.evaluate((el) => {
      const ids = (el.getAttribute('aria-describedby') ?? '').split(' ');
      return ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
    });
  }
}

/** A list of posts: the feed, Explore, or a user's page. */
export class Posts {
  readonly list: Locator;

  constructor(readonly page: Page) {
    this.list = page.getByRole('main').getByRole('article');
  }

  post(text: string): Locator {
    return this.list.filter({ hasText: text });
  }

  async expectShown(text: string): Promise<void> {
    await expect(this.post(text)).toBeVisible();
  }

  async expectNotShown(text: string): Promise<void> {
    await expect(this.post(text)).toHaveCount(0);
  }

  async edit(text: string, replacement: string): Promise<void> {
    await this.post(text).getByRole('link', { name: 'Edit' }).click();
    const box = this.page.getByLabel('Your post');
    await expect(box).toHaveValue(text);
    await box.fill(replacement);
    await this.page.getByRole('button', { name: 'Save' }).click();
    await expect(new Shell(this.page).flash('Your post has been updated.')).toBeVisible();
  }

  async delete(text: string): Promise<void> {
    const post = this.post(text);
    await post.getByRole('button', { name: 'Delete' }).click();
    await post.getByRole('button', { name: 'Yes, delete' }).click();
    await expect(new Shell(this.page).flash('Your post has been deleted.')).toBeVisible();
  }
}

export class FeedPage {
  readonly box: Locator;
  readonly submit: Locator;
  readonly posts: Posts;

  constructor(readonly page: Page) {
    this.box = page.getByLabel("What's on your mind?");
    this.submit = page.getByRole('button', { name: 'Post', exact: true });
    this.posts = new Posts(page);
  }

  async goto(): Promise<void> {
    await this.page.goto('/');
    await expect(this.page.getByRole('heading', { name: 'Feed', level: 1 })).toBeVisible();
  }

  async write(text: string): Promise<void> {
    await this.box.fill(text);
    await this.submit.click();
    await this.posts.expectShown(text);
    await expect(this.box).toHaveValue('');
  }
}

export class UserPage {
  readonly posts: Posts;
  readonly follow: Locator;
  readonly unfollow: Locator;
  readonly tabs: Locator;
  readonly people: Locator;

  constructor(readonly page: Page) {
    this.posts = new Posts(page);
    this.follow = page.getByRole('button', { name: 'Follow', exact: true });
    this.unfollow = page.getByRole('button', { name: 'Unfollow' });
    this.tabs = page.getByRole('navigation', { name: 'User lists' });
    this.people = page.getByRole('main').getByRole('list');
  }

  async goto(username: string, list?: 'followers' | 'following'): Promise<void> {
    await this.page.goto(`/user/${username}${list ? `?list=${list}` : ''}`);
    await expect(this.page.getByRole('heading', { name: username, level: 1 })).toBeVisible();
  }

  tab(name: 'Posts' | 'Followers' | 'Following'): Locator {
    return this.tabs.getByRole('link', { name: new RegExp(`^${name}`) });
  }

  async expectCounts(followers: number, following: number): Promise<void> {
    await expect(this.tab('Followers')).toHaveText(`Followers (${followers})`);
    await expect(this.tab('Following')).toHaveText(`Following (${following})`);
  }
}
