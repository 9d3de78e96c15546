// Journey 17: an installable app. The page names a web app manifest (name, icons, theme
// colours, start URL, display) and theme colours, all served under the strict CSP, and
// Chromium's own installability check finds nothing missing.
import { chromium } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '../pages/fixtures';

test('Chromium finds the app installable', async ({ baseURL, request }, testInfo) => {
  // A browser profile of its own: Chromium never offers to install from an incognito-like
  // context, which is what Playwright's contexts are.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'microblog-install-'));
  const context = await chromium.launchPersistentContext(profile, { ...testInfo.project.use.launchOptions, baseURL });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto('/login');
    await expect(page.getByRole('button', { name: 'Log in', exact: true })).toBeEnabled();
    const cdp = await context.newCDPSession(page);
    const manifest = await cdp.send('Page.getAppManifest');
    expect(manifest.errors).toEqual([]);
    expect(manifest.url).toMatch(/\/manifest\.webmanifest$/);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(installabilityErrors).toEqual([]);
    await expect(page.locator('meta[name="theme-color"]')).toHaveCount(2);
    // Nothing the manifest names breaks the CSP or fails to load.
    expect(errors).toEqual([]);

    const parsed = JSON.parse(manifest.data!);
    expect(parsed).toMatchObject({ name: 'Microblog', short_name: 'Microblog', start_url: '/', display: 'standalone' });
    for (const icon of parsed.icons as { src: string; sizes: string; type: string }[]) {
      const response = await request.get(icon.src);
      expect(response.status(), icon.src).toBe(200);
      expect(response.headers()['content-type']).toBe('image/png');
      const png = await response.body();
      expect(`${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`, icon.src).toBe(icon.sizes);
    }
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});
