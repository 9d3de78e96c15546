// Journey 6: no token, refresh cookie value, TOTP secret, recovery code or password ever
// lands in Web Storage, IndexedDB, a script-readable cookie or the URL; Web Storage holds
// only what the site remembers on purpose (the theme, an unsent post: docs/security.md,
// "What the browser stores"), and the refresh cookie has exactly the attributes of
// "Cookies, CSRF and CORS" (the session hint beside it is script-readable, and holds no
// token).
import type { Page } from '@playwright/test';
import { currentStep, expect, newAccount, register, test, totp } from '../pages/fixtures';

/**
 * Every access and refresh token the server sent to `page` (read off the wire). Reading a
 * response is asynchronous: await `settled()` before looking at `tokens`.
 */
function collectTokens(page: Page): { tokens: Set<string>; settled: () => Promise<unknown> } {
  const tokens = new Set<string>();
  const reads: Promise<void>[] = [];
  page.on('response', (response) => {
    if (new URL(response.url()).pathname !== '/api/tokens' || response.status() !== 200) return;
    reads.push(
      (async () => {
        const body = await response.json().catch(() => ({}));
        for (const token of [body.access_token, body.refresh_token]) if (token) tokens.add(token);
        // headerValue(), not headers(): Chromium reports Set-Cookie separately, and later.
        const cookie = await response.headerValue('set-cookie');
        const value = cookie?.match(/refresh_token=([^;]+)/)?.[1];
        if (value) tokens.add(value);
      })(),
    );
  });
  return { tokens, settled: () => Promise.all(reads) };
}

/** Everything a script in the page could read back later. */
async function browserStorage(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const dump = (s: Storage) => Object.keys(s).map((k) => `${k}=${s.getItem(k)}`).join('\n');
    const databases = 'databases' in indexedDB ? await indexedDB.databases() : [];
    return [dump(localStorage), dump(sessionStorage), document.cookie, JSON.stringify(databases), location.href].join(
      '\n',
    );
  });
}

/** The keys of localStorage and of sessionStorage. */
async function storageKeys(page: Page): Promise<{ local: string[]; session: string[] }> {
  return page.evaluate(() => ({ local: Object.keys(localStorage).sort(), session: Object.keys(sessionStorage).sort() }));
}

test('storage holds what the site remembers and no secret; tokens stay out of cookies and the URL', async ({
  request,
  page,
  loginPage,
  shell,
  feedPage,
  twoFactorPage,
}) => {
  const me = newAccount('secretive');
  await register(request, me);
  const { tokens, settled } = collectTokens(page);

  await loginPage.goto();
  await loginPage.login(me);
  // Every kind of secret passes through the page: two-factor authentication turned on shows
  // the TOTP secret and the recovery codes.
  await twoFactorPage.goto();
  const secret = await twoFactorPage.start(me.password);
  const recoveryCodes = await twoFactorPage.confirm(totp(secret, currentStep()));
  await twoFactorPage.dismissCodes();
  // What the site may remember: a theme and an unsent post.
  await shell.chooseTheme('dark');
  await feedPage.goto();
  await feedPage.box.fill('Half a thought');
  await page.reload();
  await shell.expectLoggedInAs(me.username);
  await expect(feedPage.box).toHaveValue('Half a thought');
  await page.goto('/explore');
  await shell.expectLoggedInAs(me.username);

  await settled();
  expect(tokens.size).toBeGreaterThanOrEqual(3);
  const cookies = await page.context().cookies();
  const refresh = cookies.find((c) => c.name === 'refresh_token');
  const secrets = [
    ...tokens,
    refresh!.value,
    me.password,
    secret,
    secret.toLowerCase(),
    ...recoveryCodes,
    ...recoveryCodes.map((code) => code.replace(/[^0-9a-z]/gi, '')),
  ];
  const stored = await browserStorage(page);
  for (const value of secrets) expect(stored, 'a secret in storage, a cookie or the URL').not.toContain(value);
  // Web Storage holds the theme and the draft, nothing else.
  expect(await storageKeys(page)).toEqual({ local: ['microblog-theme'], session: ['microblog-draft'] });
  expect(await page.evaluate(() => [localStorage.getItem('microblog-theme'), sessionStorage.getItem('microblog-draft')])).toEqual([
    '"dark"',
    '"Half a thought"',
  ]);
  // The one script-readable cookie is the session hint, which holds no token.
  expect(await page.evaluate(() => document.cookie)).toBe('session_hint=1');
  expect(await page.evaluate(async () => (await indexedDB.databases()).length)).toBe(0);

  expect(refresh).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/api/tokens' });
  expect(refresh!.domain).not.toMatch(/^\./);
  const hint = cookies.find((c) => c.name === 'session_hint');
  expect(hint).toMatchObject({ value: '1', httpOnly: false, secure: true, sameSite: 'Strict', path: '/' });
  expect(Math.abs(hint!.expires - refresh!.expires)).toBeLessThanOrEqual(2);
  // Nothing else is stored in cookies at all.
  expect(cookies.map((c) => c.name).sort()).toEqual(['refresh_token', 'session_hint']);

  // Logging out forgets the draft; the theme is not the account's, and stays.
  await shell.logout();
  expect(await storageKeys(page)).toEqual({ local: ['microblog-theme'], session: [] });
});
