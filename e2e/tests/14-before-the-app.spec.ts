// Journey 14: before the app. index.html carries the entry forms, shown at once while the
// wasm downloads: a visitor can read and type, nothing can be sent, and when the app
// arrives it takes over in place (what was typed, the focus and the caret survive, and the
// page looks the same). A returning visitor sees a skeleton of the feed instead, and an
// anonymous one costs no request to /api/tokens.
import type { Locator, Page, Request } from '@playwright/test';
import { expect, newAccount, register, test } from '../pages/fixtures';

/** Holds back every wasm download until the returned function is called. */
async function holdTheApp(page: Page): Promise<() => void> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/*.wasm', async (route) => {
    await released;
    await route.continue();
  });
  return release;
}

// With the wasm held back, the load event never comes (the wasm is preloaded): navigations
// wait for the response only.
const HELD = { waitUntil: 'commit' } as const;

/** The copy index.html shows before the app (every element of it is marked `data-boot`). */
function shellOf(page: Page): Locator {
  return page.locator('[data-boot]');
}

/** Waits until the app has replaced the copy and its submit button works. */
async function expectTheApp(page: Page, submit: string): Promise<void> {
  await expect(shellOf(page)).toHaveCount(0);
  await expect(page.getByRole('button', { name: submit, exact: true })).toBeEnabled();
}

/** Every request to /api/tokens, and every document load, from now on. */
function recordSends(page: Page): { tokens: string[]; documents: string[] } {
  const sent = { tokens: [] as string[], documents: [] as string[] };
  page.on('request', (request: Request) => {
    const url = new URL(request.url());
    // The session's requests; not the list of sign-in providers (a GET without credentials
    // that the login and register pages make once the app runs).
    const providers = request.method() === 'GET' && url.pathname === '/api/tokens/oauth2';
    if (url.pathname.startsWith('/api/tokens') && !providers) sent.tokens.push(`${request.method()} ${url.pathname}`);
    if (request.resourceType() === 'document') sent.documents.push(`${request.method()} ${url.pathname}${url.search}`);
  });
  return sent;
}

test('what is typed before the app loads is kept, with the focus and the caret', async ({ request, page, shell }) => {
  const me = newAccount('early');
  await register(request, me);
  const release = await holdTheApp(page);

  await page.goto('/login', HELD);
  await expect(shellOf(page).getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
  const loading = page.getByRole('button', { name: 'Loading…' });
  await expect(loading).toBeDisabled();
  const username = page.getByLabel('Username or email address');
  const password = page.getByLabel('Password', { exact: true });
  await password.fill(me.password);
  // The username with its middle left out, and the caret put back where it is missing.
  const [head, middle, tail] = [me.username.slice(0, 3), me.username.slice(3, 6), me.username.slice(6)];
  await username.click();
  await page.keyboard.type(head + tail);
  for (let i = 0; i < tail.length; i++) await page.keyboard.press('ArrowLeft');
  await expect(username).toBeFocused();

  release();
  await expectTheApp(page, 'Log in');

  await expect(username).toHaveValue(head + tail);
  await expect(password).toHaveValue(me.password);
  await expect(username).toBeFocused();
  expect(await username.evaluate((input: HTMLInputElement) => [input.selectionStart, input.selectionEnd])).toEqual([
    head.length,
    head.length,
  ]);
  // Typing goes on where it stopped, and the app sends what the fields show.
  await page.keyboard.type(middle);
  await expect(username).toHaveValue(me.username);
  await page.keyboard.press('Enter');
  await shell.expectLoggedInAs(me.username);
});

test('nothing is sent before the app loads: Enter and the loading button do nothing', async ({ request, page }) => {
  const me = newAccount('patient');
  await register(request, me);
  const release = await holdTheApp(page);
  const sent = recordSends(page);

  await page.goto('/login', HELD);
  const username = page.getByLabel('Username or email address');
  const password = page.getByLabel('Password', { exact: true });
  await username.fill(me.username);
  await password.fill(me.password);
  await password.press('Enter');
  await username.press('Enter');
  await page.getByRole('button', { name: 'Loading…' }).click({ force: true });

  release();
  await expectTheApp(page, 'Log in');
  await page.waitForLoadState('networkidle');

  expect(sent.tokens).toEqual([]);
  // No native submission either: one document, and no password in any address.
  expect(sent.documents).toEqual(['GET /login']);
  expect(page.url()).not.toContain('?');
  // The app did not queue the early Enter: still on the form, with the values.
  await expect(page).toHaveURL('/login');
  await expect(password).toHaveValue(me.password);
});

type Box = { x: number; y: number; width: number; height: number };

/**
 * Pixels that differ between two PNG screenshots of the same size, outside `skip` (compared
 * in a blank page).
 */
async function differingPixels(
  page: Page,
  before: Buffer,
  after: Buffer,
  skip: Box,
): Promise<{ differing: number; total: number }> {
  const blank = await page.context().newPage();
  try {
    return await blank.evaluate(
      async ([a, b, skip]) => {
        const decode = async (png: string) => {
          const image = new Image();
          image.src = `data:image/png;base64,${png}`;
          await image.decode();
          const canvas = document.createElement('canvas');
          canvas.width = image.width;
          canvas.height = image.height;
          const context = canvas.getContext('2d')!;
          context.drawImage(image, 0, 0);
          return context.getImageData(0, 0, image.width, image.height);
        };
        const [x, y] = await Promise.all([decode(a), decode(b)]);
        const total = x.width * x.height;
        if (x.width !== y.width || x.height !== y.height) return { differing: total, total };
        let differing = 0;
        for (let i = 0; i < x.data.length; i += 4) {
          const [px, py] = [(i / 4) % x.width, Math.floor(i / 4 / x.width)];
          if (px >= skip.x && px < skip.x + skip.width && py >= skip.y && py < skip.y + skip.height) continue;
          const delta =
            Math.abs(x.data[i] - y.data[i]) + Math.abs(x.data[i + 1] - y.data[i + 1]) + Math.abs(x.data[i + 2] - y.data[i + 2]);
          if (delta > 24) differing++;
        }
        return { differing, total };
      },
      [before.toString('base64'), after.toString('base64'), skip] as const,
    );
  } finally {
    await blank.close();
  }
}

/** The markup of the visible layout (header and main), without what only the copy has. */
async function visibleMarkup(page: Page): Promise<string> {
  return page.evaluate(() => {
    const shown = [...document.querySelectorAll('body > header, body > main')].filter(
      (element) => element.getClientRects().length > 0,
    );
    return shown
      .map((element) => {
        const clone = element.cloneNode(true) as Element;
        const prune = (node: Node) => {
          for (const child of [...node.childNodes]) {
            if (child.nodeType === Node.COMMENT_NODE || (child.nodeType === Node.TEXT_NODE && child.nodeValue === '')) {
              child.remove();
            } else {
              prune(child);
            }
          }
        };
        prune(clone);
        for (const e of [clone, ...clone.querySelectorAll('*')]) {
          e.removeAttribute('data-boot');
          e.classList.remove('boot-loading');
          if (e.classList.length === 0) e.removeAttribute('class');
          if (e.tagName === 'BUTTON') {
            e.removeAttribute('disabled');
            e.removeAttribute('aria-label');
          }
          const attributes = [...e.attributes].map((a) => [a.name, a.value]).sort();
          for (const [name] of attributes) e.removeAttribute(name);
          for (const [name, value] of attributes) e.setAttribute(name, value);
        }
        return clone.outerHTML;
      })
      .join('\n');
  });
}

const FORMS = [
  { path: '/login', heading: 'Log in', submit: 'Log in', typed: { 'Username or email address': 'susan' } },
  { path: '/register', heading: 'Register', submit: 'Register', typed: { Username: 'susan', 'Email address': 's@example.com' } },
  { path: '/forgot', heading: 'Forgot password', submit: 'Send the link', typed: { 'Email address': 's@example.com' } },
];

for (const form of FORMS) {
  test(`${form.path} looks the same, and is the same markup, before and after the app loads`, async ({ page }) => {
    // Every painted frame, from the first: whether an entry form was on screen.
    await page.addInitScript(() => {
      const frames: boolean[] = [];
      (window as unknown as { formFrames: boolean[] }).formFrames = frames;
      const tick = () => {
        const form = document.querySelector('main form');
        frames.push(!!form && form.getClientRects().length > 0);
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    // The provider links come with the provider list, once the app runs: what is compared
    // here is the takeover itself, so the list waits until the comparison is done.
    let releaseProviders: () => void = () => {};
    const providersHeld = new Promise<void>((resolve) => {
      releaseProviders = resolve;
    });
    await page.route('**/api/tokens/oauth2', async (route) => {
      await providersHeld;
      await route.continue();
    });
    const release = await holdTheApp(page);
    await page.goto(form.path, HELD);
    await expect(shellOf(page).getByRole('heading', { name: form.heading, level: 1 })).toBeVisible();
    for (const [label, value] of Object.entries(form.typed)) await page.getByLabel(label).fill(value);
    const submit = page.locator('main form button[type="submit"]');
    // Playwright's own caret hiding and masks are inline styles, which the CSP refuses:
    // the submit button (disabled and "Loading…" before, enabled after) is left out of the
    // comparison instead, and a blinking caret is within the tolerance.
    const shot = () => page.screenshot({ caret: 'initial' });
    const before = { shot: await shot(), markup: await visibleMarkup(page), button: await submit.boundingBox() };
    await expect(page).toHaveTitle(`${form.heading} · Microblog`);

    release();
    await expectTheApp(page, form.submit);

    const after = { shot: await shot(), markup: await visibleMarkup(page), button: await submit.boundingBox() };
    await expect(page).toHaveTitle(`${form.heading} · Microblog`);
    expect(after.markup).toBe(before.markup);
    expect(after.button).toEqual(before.button);
    const button = after.button!;
    const skip = { x: Math.floor(button.x) - 2, y: Math.floor(button.y) - 2, width: Math.ceil(button.width) + 4, height: Math.ceil(button.height) + 4 };
    const { differing, total } = await differingPixels(page, before.shot, after.shot, skip);
    expect(differing / total, `${differing} of ${total} pixels differ`).toBeLessThan(0.002);
    for (const [label, value] of Object.entries(form.typed)) await expect(page.getByLabel(label)).toHaveValue(value);
    // Once on screen, the form never left it, not for one frame.
    const frames = await page.evaluate(() => (window as unknown as { formFrames: boolean[] }).formFrames);
    const first = frames.indexOf(true);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(frames.slice(first).every(Boolean)).toBe(true);
    releaseProviders();
    // The provider links of the login and register pages come last, below everything
    // else: nothing already on screen moves when they arrive.
    if (form.path !== '/forgot') {
      const last = page.locator('main .narrow > p').last();
      const before = { button: await submit.boundingBox(), last: await last.boundingBox() };
      const provider = page.getByRole('link', { name: 'Continue with Mock' });
      await expect(provider).toBeVisible();
      expect(await submit.boundingBox()).toEqual(before.button);
      expect(await last.boundingBox()).toEqual(before.last);
      const link = (await provider.boundingBox())!;
      expect(link.y).toBeGreaterThan(before.last!.y + before.last!.height);
    }
  });
}

test('an anonymous visit sends no request to /api/tokens', async ({ page }) => {
  const sent = recordSends(page);

  await page.goto('/login');
  await expectTheApp(page, 'Log in');
  // A private page sends the visitor to log in, still without asking.
  await page.goto('/explore');
  await expect(page).toHaveURL(`/login?next=${encodeURIComponent('/explore')}`);
  await expectTheApp(page, 'Log in');
  await page.waitForLoadState('networkidle');

  expect(sent.tokens).toEqual([]);
});

test('a returning visitor sees the header and a skeleton of the feed, never the login form', async ({
  request,
  page,
  loginPage,
  shell,
}) => {
  const me = newAccount('returning');
  await register(request, me);
  await loginPage.goto();
  await loginPage.login(me);
  const sent = recordSends(page);
  const release = await holdTheApp(page);

  await page.reload(HELD);
  await expect(page.locator('[data-boot] .skeleton')).toBeVisible();
  await expect(page.getByRole('banner').getByRole('link', { name: 'Microblog' })).toBeVisible();
  await expect(page.locator('input[type="password"]')).toHaveCount(0);
  await expect(shell.loginLink()).toHaveCount(0);

  release();
  await shell.expectLoggedInAs(me.username);
  await expect(page.getByRole('heading', { name: 'Feed', level: 1 })).toBeVisible();
  await expect(shellOf(page)).toHaveCount(0);
  // The session came back with exactly one cookie-only refresh.
  expect(sent.tokens).toEqual(['PUT /api/tokens']);
});
