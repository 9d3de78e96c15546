// Playwright for the microblog journeys: Debian's Chromium (never `npx playwright install`:
// no browser downloads on these machines), our release server on a free port with a
// fresh SQLite database per run, and an OAuth 2 mock provider beside it.
//
// Run through `cargo xtask test` (it builds dist/ and target/release/server first), or
// `cargo xtask test --only e2e`. Set E2E_BASE_URL to run the specs against a server that
// is already running instead (e.g. `cargo xtask run`); then nothing is started here.
import { defineConfig, devices } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..');

/** A free loopback port, found synchronously (the config is not async). */
function freePort(): string {
  const script =
    "const s=require('net').createServer();" +
    "s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();});";
  return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
}

// Playwright loads this file in the runner and again in every worker. Workers inherit the
// runner's environment, so what is chosen once here is stored in process.env and reused:
// every process then agrees on the port and the temporary directory.
const env = process.env;
env.E2E_PORT ??= freePort();
env.E2E_OAUTH_PORT ??= freePort();
env.E2E_TMP ??= fs.mkdtempSync(path.join(os.tmpdir(), 'microblog-e2e-'));
env.E2E_MAIL_OUTBOX ??= path.join(env.E2E_TMP, 'outbox');
env.E2E_OAUTH_ISSUER ??= `http://127.0.0.1:${env.E2E_OAUTH_PORT}`;

const external = env.E2E_BASE_URL;
const baseURL = external ?? `http://127.0.0.1:${env.E2E_PORT}`;
const targetDir = path.resolve(repoRoot, env.CARGO_TARGET_DIR ?? 'target');
const serverBin = env.E2E_SERVER_BIN ?? path.join(targetDir, 'release', 'server');
const dist = env.E2E_DIST ?? path.join(repoRoot, 'dist');
const database = path.join(env.E2E_TMP, 'e2e.db');
// The cross-origin topology (`cargo xtask test --only e2e-cross-origin` sets these): nginx,
// configured from cdn/_headers and cdn/_redirects, serves E2E_DIST on E2E_PORT, and the API
// runs alone on E2E_API_PORT. The SPA reaches it by the origin in its <meta>, and the specs'
// `request` fixture (pages/fixtures.ts) by E2E_API_URL.
const nginxConf = env.E2E_NGINX_CONF;
if (nginxConf && !external) {
  if (!env.E2E_API_PORT) throw new Error('E2E_NGINX_CONF needs E2E_API_PORT');
  env.E2E_API_URL ??= `http://127.0.0.1:${env.E2E_API_PORT}`;
}
const apiURL = env.E2E_API_URL ?? baseURL;

if (!external) {
  for (const [what, file] of [
    ['the release server', serverBin],
    ['the SPA build', path.join(dist, 'index.html')],
  ]) {
    if (!fs.existsSync(file)) {
      throw new Error(`${what} is missing (${file}): run \`cargo xtask build\` or \`cargo xtask test --only e2e\``);
    }
  }
  // SQLite treats an empty file as an empty database.
  if (!env.E2E_DATABASE_URL && !fs.existsSync(database)) fs.writeFileSync(database, '');
}

/** The server's settings for the journeys (names as in README.md). */
const serverEnv: Record<string, string> = {
  HOST: '127.0.0.1',
  PORT: nginxConf ? env.E2E_API_PORT! : env.E2E_PORT,
  // E2E_DATABASE_URL: another database (the `e2e-postgres` stage passes a PostgreSQL one).
  DATABASE_URL: env.E2E_DATABASE_URL ?? `sqlite://${database}`,
  // Behind nginx the API serves no files: the static host does.
  STATIC_DIR: nginxConf ? path.join(env.E2E_TMP, 'no-dist') : dist,
  PUBLIC_URL: baseURL,
  ALLOWED_ORIGINS: baseURL,
  ...(nginxConf ? { API_ORIGIN: apiURL } : {}),
  // Short, so the expiry journey sees access tokens expire within a test.
  ACCESS_TOKEN_TTL_SECS: env.E2E_ACCESS_TOKEN_TTL_SECS ?? '5',
  MAIL_OUTBOX: env.E2E_MAIL_OUTBOX,
  // Every journey comes from 127.0.0.1: the per-address limit on reset emails would count
  // the whole run against each test. The per-email limit (3) stays, and a journey shows it.
  THROTTLE_RESET_ADDRESS: '1000/900',
  // Likewise every journey registers its users from 127.0.0.1.
  THROTTLE_REGISTER_ADDRESS: '10000/3600',
  // Seals the run's 2FA secrets and signing keys; a new one each run, like its database.
  SECRET_KEY: randomBytes(32).toString('hex'),
  RUST_LOG: env.E2E_RUST_LOG ?? 'warn',
  // "Continue with Mock": the provider started below (fixtures/oauth-provider.mjs).
  OAUTH2_MOCK_CLIENT_ID: 'microblog-e2e',
  OAUTH2_MOCK_CLIENT_SECRET: randomBytes(16).toString('hex'),
  OAUTH2_MOCK_ISSUER: env.E2E_OAUTH_ISSUER,
};

export default defineConfig({
  testDir: './tests',
  // 2 cores, shared by the server, Chromium and the runner.
  workers: 2,
  fullyParallel: true,
  retries: 0,
  forbidOnly: !!env.CI,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: './test-results',
  globalTeardown: './fixtures/global-teardown.ts',
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      // Without the background-networking flags Chromium floods this closed network with
      // connection attempts. --no-sandbox: we run as root.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { ...devices['Desktop Chrome'] } }],
  webServer: external
    ? undefined
    : [
        {
          name: 'oauth',
          command: `node ./fixtures/oauth-provider.mjs 127.0.0.1 ${env.E2E_OAUTH_PORT}`,
          url: `${env.E2E_OAUTH_ISSUER}/.well-known/openid-configuration`,
          reuseExistingServer: false,
          timeout: 30_000,
          stdout: 'ignore',
          stderr: 'pipe',
        },
        ...(nginxConf
          ? [
              {
                name: 'nginx',
                command: `${env.E2E_NGINX ?? 'nginx'} -e ${JSON.stringify(path.join(path.dirname(nginxConf), 'error.log'))} -p ${JSON.stringify(path.dirname(nginxConf))} -c ${JSON.stringify(nginxConf)}`,
                url: `${baseURL}/index.html`,
                reuseExistingServer: false,
                timeout: 30_000,
                stdout: 'ignore' as const,
                stderr: 'pipe' as const,
                gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 5_000 },
              },
            ]
          : []),
        {
          name: 'server',
          command: JSON.stringify(serverBin),
          url: `${apiURL}/api/health`,
          env: serverEnv,
          reuseExistingServer: false,
          timeout: 60_000,
          stdout: 'pipe',
          stderr: 'pipe',
          gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
        },
      ],
});
