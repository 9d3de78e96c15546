// The cross-origin topology itself (`cargo xtask test --only e2e-cross-origin`): nginx
// serves dist/ by cdn/_headers and cdn/_redirects, the API answers on another origin, and
// CORS lets only the SPA's origin use it with credentials. Skipped when the SPA and the
// API share an origin.
import { request as playwrightRequest } from '@playwright/test';
import { expect, newAccount, register, test } from '../pages/fixtures';

const api = process.env.E2E_API_URL;

test.skip(!api, 'only in the cross-origin topology (E2E_API_URL)');

test('the static host sends the headers of _headers, the API origin in its CSP', async ({ request, baseURL }) => {
  const spa = await playwrightRequest.newContext({ baseURL });
  const page = await spa.get('/');
  expect(page.status()).toBe(200);
  const csp = page.headers()['content-security-policy'];
  expect(csp).toMatch(new RegExp(`connect-src 'self' ${api}(;|$)`));
  expect(csp).toMatch(new RegExp(`img-src 'self' data: ${api}(;|$)`));
  expect(page.headers()['x-content-type-options']).toBe('nosniff');
  expect(page.headers()['cache-control']).toBe('no-cache');
  const html = await page.text();
  expect(html).toContain(`<meta name="microblog-api-base" content="${api}">`);

  // A deep link is the app's page (so a reload works), revalidated like it.
  const deep = await spa.get('/user/nobody-in-particular');
  expect(deep.status()).toBe(200);
  expect(deep.headers()['cache-control']).toBe('no-cache');
  expect(await deep.text()).toBe(html);

  // Hashed files are cached for good, and sent gzipped to a browser that accepts it.
  const wasm = html.match(/data-wasm="([^"]+)"/)?.[1] ?? html.match(/href="([^"]+\.wasm)"/)?.[1];
  expect(wasm, 'the page names its wasm').toBeTruthy();
  const module = await spa.get(wasm!, { headers: { 'Accept-Encoding': 'gzip' } });
  expect(module.status()).toBe(200);
  expect(module.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  expect(module.headers()['content-type']).toBe('application/wasm');
  expect(module.headers()['content-encoding']).toBe('gzip');
  await spa.dispose();

  // The API serves no page of its own here.
  expect((await request.get('/api/health')).status()).toBe(200);
});

test('CORS allows the SPA origin with credentials, and no other', async ({ baseURL }) => {
  const client = await playwrightRequest.newContext({ baseURL: api });
  const origin = new URL(baseURL!).origin;
  const preflight = (from: string) =>
    client.fetch('/api/tokens', {
      method: 'OPTIONS',
      headers: { Origin: from, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
    });
  const allowed = await preflight(origin);
  expect(allowed.headers()['access-control-allow-origin']).toBe(origin);
  expect(allowed.headers()['access-control-allow-credentials']).toBe('true');
  const other = await preflight('http://127.0.0.2:1');
  expect(other.headers()['access-control-allow-origin']).toBeUndefined();
  await client.dispose();
});

test('the refresh cookie the API sets is sent back from the SPA origin', async ({ request, page, loginPage, shell }) => {
  const me = newAccount('crossing');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);
  await shell.expectLoggedInAs(me.username);
  const cookie = (await page.context().cookies(`${api}/api/tokens`)).find((c) => c.name === 'refresh_token');
  expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/api/tokens' });
  // The page's own origin never sees it (other port, same host: cookies ignore ports,
  // but the path keeps it to the API's token endpoint).
  expect(await page.evaluate(() => document.cookie)).not.toContain('refresh_token');
  const refreshed = page.waitForResponse((r) => r.url() === `${api}/api/tokens` && r.request().method() === 'PUT');
  await page.reload();
  expect((await refreshed).status()).toBe(200);
  await shell.expectLoggedInAs(me.username);
});
