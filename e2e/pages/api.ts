// Arranging through the HTTP API: users and posts a journey needs before it starts, so
// each test stays independent and fast. What a journey is *about* goes through the UI.
import { type APIRequestContext, expect } from '@playwright/test';
import { currentStep, totp } from './totp';

export interface Account {
  username: string;
  email: string;
  password: string;
}

let counter = 0;

/** A fresh, unique account (not registered yet). */
export function newAccount(prefix = 'user'): Account {
  counter += 1;
  const unique = `${Date.now().toString(36)}${process.pid.toString(36)}${counter}${Math.floor(Math.random() * 1e4)}`;
  const username = `${prefix}_${unique}`.slice(0, 60);
  return {
    username,
    email: `${username}@example.test`,
    password: `lilac-river-${unique}`,
  };
}

/** Registers `account` through `POST /api/users`. */
export async function register(request: APIRequestContext, account: Account): Promise<{ id: number }> {
  const response = await request.post('/api/users', {
    data: { username: account.username, email: account.email, password: account.password },
  });
  expect(response.status(), await response.text()).toBe(201);
  return response.json();
}

/** Logs `account` in through the API and returns an access token. */
export async function accessToken(request: APIRequestContext, account: Account): Promise<string> {
  const basic = Buffer.from(`${account.username}:${account.password}`).toString('base64');
  const response = await request.post('/api/tokens', { headers: { Authorization: `Basic ${basic}` } });
  expect(response.status()).toBe(200);
  return (await response.json()).access_token;
}

/** Writes a post as `account` through the API. */
export async function writePost(request: APIRequestContext, token: string, text: string): Promise<void> {
  const response = await request.post('/api/posts', {
    headers: { Authorization: `Bearer ${token}` },
    data: { text },
  });
  expect(response.status(), await response.text()).toBe(201);
}

/** Makes `token`'s user follow user `id` through the API. */
export async function follow(request: APIRequestContext, token: string, id: number): Promise<void> {
  const response = await request.post(`/api/me/following/${id}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(response.status()).toBe(204);
}

/** Turns on two-factor authentication for `account` through the API (the settings page is
 * journey 12's subject); returns the secret, the recovery codes and the step used. */
export async function enableTwoFactor(
  request: APIRequestContext,
  account: Account,
): Promise<{ secret: string; recoveryCodes: string[]; step: number }> {
  const headers = { Authorization: `Bearer ${await accessToken(request, account)}` };
  const started = await request.post('/api/me/2fa', { headers, data: { password: account.password } });
  expect(started.status(), await started.text()).toBe(200);
  const { secret } = await started.json();
  const step = currentStep();
  const confirmed = await request.put('/api/me/2fa', { headers, data: { code: totp(secret, step) } });
  expect(confirmed.status(), await confirmed.text()).toBe(200);
  return { secret, recoveryCodes: (await confirmed.json()).recovery_codes, step };
}
