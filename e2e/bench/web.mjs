// `cargo xtask bench-web`: how fast the SPA reaches a person, in Chromium, as a benchmark
// (numbers, not pass/fail). xtask builds the release app, starts our server on dist/
// (brotli) with a seeded account, and runs this script with:
//
//   BENCH_BASE_URL   the server, e.g. http://127.0.0.1:18300
//   BENCH_USERNAME, BENCH_PASSWORD   an account with posts in its feed
//   BENCH_RUNS       runs per profile and cache state (default 15; medians are printed)
//   BENCH_PROFILES   comma-separated, default "loopback,phone"
//   BENCH_JSON       optional file to write every sample to
//   CHROMIUM_PATH    default /usr/bin/chromium
//
// Every time is taken in the page itself (performance.now(), from the navigation's start
// or from the click or submit that began it) in the first animation frame that shows the
// state: the browser paints right after that frame's callbacks. The page announces each
// state on its console, and that is all this script waits on: Playwright's own waiting
// (waitForFunction, selectors) evaluates its injected script in the page, which on a 4×
// slower CPU costs tens of milliseconds of the very main thread being measured.
import { chromium } from '@playwright/test';
import fs from 'node:fs';

const env = process.env;
const base = env.BENCH_BASE_URL;
const username = env.BENCH_USERNAME;
const password = env.BENCH_PASSWORD;
if (!base || !username || !password) {
  console.error('bench-web: BENCH_BASE_URL, BENCH_USERNAME and BENCH_PASSWORD are required (run `cargo xtask bench-web`)');
  process.exit(2);
}
const runs = Number(env.BENCH_RUNS ?? 15);
const profileNames = (env.BENCH_PROFILES ?? 'loopback,phone').split(',').map((p) => p.trim()).filter(Boolean);

/** The lazy page: reached from the user's own page, as a person would. */
const LAZY = { path: '/settings/profile', heading: 'Edit profile' };

const PROFILES = {
  loopback: { name: 'loopback', network: null, cpu: 1 },
  // A mid-range phone on a slow mobile connection (Lighthouse's "slow 4G" numbers).
  phone: {
    name: 'phone',
    network: { latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 },
    cpu: 4,
  },
};

// The flags of e2e/playwright.config.ts: no background traffic on this closed network.
const browser = await chromium.launch({
  executablePath: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
});
const version = browser.version();

/** What the page's console messages that announce a state begin with. */
const ANNOUNCE = 'bench-web:';

/**
 * Runs in every document from its first byte: records when each state is first painted
 * and announces it on the console as `bench-web:<state> <every mark so far, as JSON>`.
 */
function instrument({ lazyHeading, announce }) {
  const marks = { visible: null, usable: null, feed: null, lazy: null, submitAt: null, clickAt: null };
  const set = (name, now) => {
    marks[name] = now;
    console.debug(`${announce}${name} ${JSON.stringify(marks)}`);
  };
  document.addEventListener('submit', () => (marks.submitAt = performance.now()), true);
  document.addEventListener(
    'click',
    (event) => {
      if (event.target instanceof Element && event.target.closest('a')) marks.clickAt = performance.now();
    },
    true,
  );
  const shown = (element) => !!element && element.getClientRects().length > 0;
  const tick = () => {
    const now = performance.now();
    const form = document.querySelector('main form');
    if (marks.visible === null && shown(form)) set('visible', now);
    if (marks.usable === null && !document.querySelector('[data-boot]')) {
      const submit = document.querySelector('main form button[type="submit"]');
      if (shown(submit) && !submit.disabled) set('usable', now);
    }
    const heading = document.querySelector('main h1');
    const title = heading && shown(heading) ? heading.textContent.trim() : '';
    if (marks.feed === null && title === 'Feed' && shown(document.querySelector('main article'))) set('feed', now);
    if (marks.lazy === null && title === lazyHeading && shown(document.querySelector('main form'))) set('lazy', now);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

/** A page in `context` under `profile`, with every finished download recorded. */
async function openPage(context, profile) {
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  if (profile.network) {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...profile.network });
  }
  if (profile.cpu !== 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpu });
  const urls = new Map();
  const downloads = [];
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) =>
    downloads.push({ url: urls.get(e.requestId) ?? '?', bytes: e.encodedDataLength }),
  );
  await page.addInitScript(instrument, { lazyHeading: LAZY.heading, announce: ANNOUNCE });
  return { page, downloads };
}

/**
 * The marks of the page's document once it announces `name`. Call it before the action
 * that leads there (it waits for the next announcement), and await it after.
 */
function mark(page, name) {
  const prefix = `${ANNOUNCE}${name} `;
  return page
    .waitForEvent('console', { predicate: (msg) => msg.text().startsWith(prefix), timeout: 120_000 })
    .then((msg) => JSON.parse(msg.text().slice(prefix.length)));
}

/** /login: the form visible, then usable, and what was downloaded until it was usable. */
async function visitLogin(tab, sample) {
  const usable = mark(tab.page, 'usable');
  await tab.page.goto(`${base}/login`, { waitUntil: 'commit' });
  const marks = await usable;
  sample.visible = marks.visible;
  sample.usable = marks.usable;
  // From the page's own resource timing: when the main module's last byte arrived (what is
  // left until usable is the CPU's), and what had arrived by the usable frame, and only
  // that (bytes on the wire, headers included), not what the fetches after the first paint
  // add later.
  const { mainWasm, files } = await tab.page.evaluate((usable) => {
    const main = document.querySelector('meta[name="microblog-wasm"]')?.dataset.wasm;
    const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
      .filter((entry) => entry.responseEnd > 0)
      .map((entry) => ({ url: new URL(entry.name).pathname, end: entry.responseEnd, bytes: entry.transferSize }));
    return {
      mainWasm: entries.find((entry) => entry.url === main)?.end ?? null,
      files: entries.filter((entry) => entry.end <= usable).map(({ url, bytes }) => ({ url, bytes })),
    };
  }, marks.usable);
  sample.mainWasm = mainWasm;
  sample.bytes = files.reduce((sum, d) => sum + d.bytes, 0);
  sample.files = files;
}

async function logIn(tab, sample) {
  await tab.page.getByLabel('Username or email address').fill(username);
  await tab.page.getByLabel('Password', { exact: true }).fill(password);
  const feed = mark(tab.page, 'feed');
  await tab.page.getByRole('button', { name: 'Log in', exact: true }).click();
  const marks = await feed;
  sample.loginToFeed = marks.feed - marks.submitAt;
}

/** The lazy page, from the user's own page. */
async function toLazyPage(tab, sample) {
  await tab.page.locator('nav a.nav-user').click();
  const edit = tab.page.locator(`main a[href="${LAZY.path}"]`);
  await edit.waitFor();
  tab.downloads.length = 0;
  const lazy = mark(tab.page, 'lazy');
  await edit.click();
  const marks = await lazy;
  sample.lazy = marks.lazy - marks.clickAt;
  sample.lazyBytes = tab.downloads.reduce((sum, d) => sum + d.bytes, 0);
}

/**
 * Cold: every visit in a new browser context (an empty HTTP cache). The reload to the feed
 * is a returning visitor whose cache is empty: a new context with the session's cookies.
 */
async function coldRun(profile) {
  const sample = {};
  const first = await browser.newContext();
  try {
    const tab = await openPage(first, profile);
    await visitLogin(tab, sample);
    await logIn(tab, sample);
    const cookies = await first.cookies();
    const again = await browser.newContext();
    try {
      await again.addCookies(cookies);
      const back = await openPage(again, profile);
      const feed = mark(back.page, 'feed');
      await back.page.goto(`${base}/`, { waitUntil: 'commit' });
      sample.reloadToFeed = (await feed).feed;
      await toLazyPage(back, sample);
    } finally {
      await again.close();
    }
  } finally {
    await first.close();
  }
  return sample;
}

/** Warm: one context whose cache earlier runs filled; logged out between runs. */
async function warmRun(context, profile) {
  const sample = {};
  await context.clearCookies();
  const tab = await openPage(context, profile);
  try {
    await visitLogin(tab, sample);
    await logIn(tab, sample);
    const feed = mark(tab.page, 'feed');
    await tab.page.reload({ waitUntil: 'commit' });
    sample.reloadToFeed = (await feed).feed;
    await toLazyPage(tab, sample);
  } finally {
    await tab.page.close();
  }
  return sample;
}

function median(values) {
  const sorted = values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const group = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');

const results = {};
for (const name of profileNames) {
  const profile = PROFILES[name];
  if (!profile) throw new Error(`unknown profile ${name} (known: ${Object.keys(PROFILES).join(', ')})`);
  results[name] = { cold: [], warm: [] };
  // One unmeasured run first: the server's and the browser's first-time costs.
  await coldRun(profile);
  for (let i = 0; i < runs; i++) {
    results[name].cold.push(await coldRun(profile));
    process.stderr.write(`bench-web: ${name} cold ${i + 1}/${runs}\r`);
  }
  const warm = await browser.newContext();
  await warmRun(warm, profile);
  for (let i = 0; i < runs; i++) {
    results[name].warm.push(await warmRun(warm, profile));
    process.stderr.write(`bench-web: ${name} warm ${i + 1}/${runs}\r`);
  }
  await warm.close();
  process.stderr.write('\n');
}
await browser.close();

if (env.BENCH_JSON) fs.writeFileSync(env.BENCH_JSON, JSON.stringify(results, null, 2));

const ROWS = [
  ['/login: bytes downloaded until the form is usable', 'bytes', 'B'],
  ['/login → form visible', 'visible', 'ms'],
  ['/login → form usable (app mounted, submit enabled)', 'usable', 'ms'],
  ['  of which: the main wasm module downloaded', 'mainWasm', 'ms'],
  ['login → feed', 'loginToFeed', 'ms'],
  ['reload → feed', 'reloadToFeed', 'ms'],
  [`navigation to ${LAZY.path}`, 'lazy', 'ms'],
  [`  bytes downloaded for it`, 'lazyBytes', 'B'],
];
const columns = profileNames.flatMap((name) => [`${name} cold`, `${name} warm`]);
const labelWidth = Math.max(...ROWS.map(([label, , unit]) => label.length + unit.length + 3));
console.log(`\nbench-web: medians of ${runs} runs each (Chromium ${version})`);
console.log(`${''.padEnd(labelWidth)}${columns.map((c) => c.padStart(15)).join('')}`);
for (const [label, key, unit] of ROWS) {
  const cells = profileNames.flatMap((name) => ['cold', 'warm'].map((state) => median(results[name][state].map((s) => s[key]))));
  console.log(`${`${label} (${unit})`.padEnd(labelWidth)}${cells.map((v) => group(v).padStart(15)).join('')}`);
}

// What a cold first visit to /login downloads, file by file (the first profile's median run).
const name = profileNames[0];
const cold = results[name].cold;
const byFile = new Map();
for (const sample of cold) {
  for (const file of sample.files) {
    if (!byFile.has(file.url)) byFile.set(file.url, []);
    byFile.get(file.url).push(file.bytes);
  }
}
console.log(`\nA cold first visit to /login until the form is usable, file by file (${name}; bytes on the wire, headers included, median):`);
for (const [url, sizes] of [...byFile.entries()].sort((a, b) => median(b[1]) - median(a[1]))) {
  const marker = url.endsWith('.wasm') ? '  (wasm)' : '';
  console.log(`  ${url.padEnd(60)}${group(median(sizes)).padStart(12)}${marker}`);
}
if (results.phone) {
  const phone = results.phone.cold;
  console.log(
    `\nPhone profile goals (cold): form visible ≤ 700 ms (now ${group(median(phone.map((s) => s.visible)))}), ` +
      `usable ≤ 1,300 ms (now ${group(median(phone.map((s) => s.usable)))}); the React reference shows its form at 1,229 ms.`,
  );
}
