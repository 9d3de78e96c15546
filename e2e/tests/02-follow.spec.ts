// Journey 2: following puts the followed user's posts in one's feed; unfollowing takes them
// out; the follower and following lists show the right people.
import { accessToken, expect, newAccount, register, test, writePost } from '../pages/fixtures';

test('following and unfollowing change the feed and both lists', async ({
  request,
  page,
  loginPage,
  feedPage,
  userPage,
  shell,
}) => {
  const reader = newAccount('reader');
  const author = newAccount('author');
  await register(request, reader);
  await register(request, author);
  const text = `News from ${author.username}`;
  await writePost(request, await accessToken(request, author), text);

  await loginPage.goto();
  await loginPage.login(reader);
  await feedPage.posts.expectNotShown(text);

  await userPage.goto(author.username);
  await userPage.posts.expectShown(text);
  await userPage.expectCounts(0, 0);
  await userPage.follow.click();
  await expect(shell.flash(`You are now following ${author.username}.`)).toBeVisible();
  await expect(userPage.unfollow).toBeVisible();
  await userPage.expectCounts(1, 0);

  await userPage.tab('Followers').click();
  await expect(userPage.people.getByRole('link', { name: reader.username })).toBeVisible();

  await userPage.goto(reader.username, 'following');
  await userPage.expectCounts(0, 1);
  await expect(userPage.people.getByRole('link', { name: author.username })).toBeVisible();

  await shell.gotoFeed();
  await feedPage.posts.expectShown(text);

  await userPage.goto(author.username);
  await userPage.unfollow.click();
  await expect(userPage.follow).toBeVisible();
  await userPage.expectCounts(0, 0);
  await userPage.tab('Followers').click();
  await expect(page.getByText('Nobody follows this user yet.')).toBeVisible();

  await shell.gotoFeed();
  await feedPage.posts.expectNotShown(text);
  // The reader's own page: Edit is offered, Follow is not.
  await shell.gotoOwnPage(reader.username);
  await expect(page.getByRole('link', { name: 'Edit profile' })).toBeVisible();
  await expect(userPage.follow).toHaveCount(0);
});

test('"More" appends the next page and keeps what is shown', async ({ request, loginPage, page }) => {
  const author = newAccount('prolific');
  await register(request, author);
  const token = await accessToken(request, author);
  for (let i = 1; i <= 27; i += 1) {
    await writePost(request, token, `Numbered post ${String(i).padStart(2, '0')}`);
  }

  await loginPage.goto(`/user/${author.username}`);
  await loginPage.login(author);
  const posts = page.getByRole('main').getByRole('article');
  await expect(posts).toHaveCount(25);
  await expect(posts.first()).toContainText('Numbered post 27');

  await page.getByRole('button', { name: 'More' }).click();
  await expect(posts).toHaveCount(27);
  await expect(posts.first()).toContainText('Numbered post 27');
  await expect(posts.last()).toContainText('Numbered post 01');
  await expect(page.getByRole('button', { name: 'More' })).toHaveCount(0);
});
