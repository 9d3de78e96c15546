// Journey 6: no token ever lands in Web Storage, IndexedDB or a script-readable cookie, and
// the refresh cookie has exactly the attributes of auth rule 10 (the session hint beside it
// is script-readable, and holds no token).
import type { Page } from '@playwright/test';
import { expect, newAccount, register, test } from '../pages/fixtures';

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

test('tokens stay out of storage, cookies and the URL', async ({ request, page, loginPage, shell }) => {
  const me = newAccount('secretive');
  await register(request, me);
  const { tokens, settled } = collectTokens(page);

  await loginPage.goto();
  await loginPage.login(me);
  await page.reload();
  await shell.expectLoggedInAs(me.username);
  await page.goto('/explore');
  await shell.expectLoggedInAs(me.username);

  await settled();
  expect(tokens.size).toBeGreaterThanOrEqual(3);
  const stored = await browserStorage(page);
  for (const token of tokens) expect(stored).not.toContain(token);
  // The one script-readable cookie is the session hint, which holds no token.
  expect(await page.evaluate(() => document.cookie)).toBe('session_hint=1');
  expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
  expect(await page.evaluate(async () => (await indexedDB.databases()).length)).toBe(0);

  const cookies = await page.context().cookies();
  const refresh = cookies.find((c) => c.name === 'refresh_token');
  expect(refresh).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/api/tokens' });
  expect(refresh!.domain).not.toMatch(/^\./);
  const hint = cookies.find((c) => c.name === 'session_hint');
  expect(hint).toMatchObject({ value: '1', httpOnly: false, secure: true, sameSite: 'Strict', path: '/' });
  expect(Math.abs(hint!.expires - refresh!.expires)).toBeLessThanOrEqual(2);
  // Nothing else is stored in cookies at all.
  expect(cookies.map((c) => c.name).sort()).toEqual(['refresh_token', 'session_hint']);
});
