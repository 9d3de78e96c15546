// Journey 1: register, log in, write a post, see it in the feed and on one's page, edit it,
// delete it.
import { expect, newAccount, Posts, register, test } from '../pages/fixtures';

test('a new user registers, logs in, and writes, edits and deletes a post', async ({
  page,
  shell,
  registerPage,
  loginPage,
  feedPage,
}) => {
  const me = newAccount('writer');

  await registerPage.goto();
  await registerPage.fill(me);
  await registerPage.submit.click();
  await expect(shell.flash(/successfully registered/)).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();

  await loginPage.login(me);
  await expect(page).toHaveURL('/');
  await expect(page.getByRole('heading', { name: 'Feed', level: 1 })).toBeVisible();

  const text = `Hello from ${me.username}`;
  await feedPage.write(text);
  const post = feedPage.posts.post(text);
  await expect(post.getByRole('link', { name: me.username })).toBeVisible();
  await expect(post.locator('time')).toHaveText('just now');
  await expect(post.locator('time')).toHaveAttribute('title', /\d{4}/);

  await shell.gotoOwnPage(me.username);
  const mine = new Posts(page);
  await mine.expectShown(text);

  const edited = `${text}, edited`;
  await mine.edit(text, edited);
  await expect(page).toHaveURL(`/user/${me.username}`);
  await mine.expectShown(edited);
  await expect(page.getByText(text, { exact: true })).toHaveCount(0);

  await shell.gotoFeed();
  await feedPage.posts.expectShown(edited);
  await feedPage.posts.delete(edited);
  await feedPage.posts.expectNotShown(edited);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Feed', level: 1 })).toBeVisible();
  await expect(page.getByText(/no posts in your feed/)).toBeVisible();
});

test('logging in with the email address works too', async ({ request, loginPage, shell }) => {
  const me = newAccount('email');
  await register(request, me);

  await loginPage.goto();
  await loginPage.login(me, 'email');
  await shell.expectLoggedInAs(me.username);
});
