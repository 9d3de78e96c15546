// Proves the harness: the release server serves the built SPA and the API.
import { expect, test } from '../pages/fixtures';

test('the app boots and shows its name', async ({ page }) => {
  const crashes: string[] = [];
  page.on('pageerror', (error) => crashes.push(error.message));

  await page.goto('/');

  await expect(page).toHaveTitle(/microblog/i);
  await expect(page.getByText(/microblog/i).first()).toBeVisible();
  expect(crashes).toEqual([]);
});

test('the API answers its health check', async ({ request }) => {
  const response = await request.get('/api/health');

  expect(response.ok()).toBeTruthy();
});
