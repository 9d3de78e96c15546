// Journey 16: posts read like posts. Web addresses and @names in a post are links (only
// http and https, with rel="noopener noreferrer nofollow ugc"), built as DOM nodes so that
// no text injects markup; hostile texts stay text; long words and addresses wrap on a
// phone-sized screen.
import { accessToken, expect, newAccount, register, test, writePost } from '../pages/fixtures';

test('addresses and @names are links; hostile texts stay text', async ({ request, page, loginPage, userPage }) => {
  const me = newAccount('linker');
  const friend = newAccount('friend');
  await register(request, me);
  await register(request, friend);
  const token = await accessToken(request, me);
  const hostile = [
    '<img src=x onerror="document.title=\'pwned\'">',
    '<script>document.title="pwned"</script>',
    'javascript:document.title="pwned"',
    '<a href="javascript:document.title=\'pwned\'">click me</a>',
    'https://exаmple.com/ has a Cyrillic а in its host',
    'https://bank.example@evil.example/login',
  ];
  for (const text of hostile) await writePost(request, token, text);
  await writePost(request, token, `Read https://example.com/docs?a=1&b=2, then say hi to @${friend.username}.`);
  let dialogs = 0;
  page.on('dialog', (dialog) => {
    dialogs++;
    void dialog.dismiss();
  });

  await loginPage.goto();
  await loginPage.login(me);
  await userPage.goto(me.username);
  const posts = page.getByRole('main').getByRole('article');
  await expect(posts).toHaveCount(hostile.length + 1);

  const linked = posts.filter({ hasText: 'then say hi' });
  const web = linked.getByRole('link', { name: 'https://example.com/docs?a=1&b=2' });
  await expect(web).toHaveAttribute('href', 'https://example.com/docs?a=1&b=2');
  await expect(web).toHaveAttribute('rel', 'noopener noreferrer nofollow ugc');
  // The text shows exactly what was written.
  await expect(linked.locator('.post-text')).toHaveText(
    `Read https://example.com/docs?a=1&b=2, then say hi to @${friend.username}.`,
  );

  // Every hostile text is on screen as written, and the only elements inside any post's
  // text are the two links of the post above.
  const texts = await posts.locator('.post-text').allTextContents();
  for (const text of hostile) expect(texts).toContain(text);
  await expect(posts.locator('.post-text *')).toHaveCount(2);
  await expect(posts.locator('.post-text a')).toHaveCount(2);
  expect(await page.title()).not.toBe('pwned');
  expect(dialogs).toBe(0);

  // @name opens that user's page in the app.
  await linked.getByRole('link', { name: `@${friend.username}` }).click();
  await expect(page).toHaveURL(`/user/${friend.username}`);
  await expect(page.getByRole('heading', { name: friend.username, level: 1 })).toBeVisible();
});

test('long words and addresses wrap on a phone', async ({ request, page, loginPage }) => {
  const me = newAccount('wrapper');
  await register(request, me);
  const token = await accessToken(request, me);
  // 247 characters: an address of 122 and a word of 120.
  await writePost(request, token, `https://example.com/${'a-very-long-path/'.repeat(6)} and ${'w'.repeat(120)}`);
  await page.setViewportSize({ width: 360, height: 740 });
  await loginPage.goto();
  await loginPage.login(me);
  const post = page.getByRole('main').getByRole('article').first();
  await expect(post.getByRole('link', { name: /^https:\/\/example\.com\// })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  const box = await post.boundingBox();
  expect(box!.x + box!.width).toBeLessThanOrEqual(360);
});
