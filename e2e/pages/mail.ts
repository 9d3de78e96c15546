// The server's outbox: with no SMTP configured it writes each email as an `.eml` file in
// MAIL_OUTBOX (playwright.config.ts points it at E2E_MAIL_OUTBOX). Sending happens after the
// request answers, so readers poll for the file (expect.poll), never sleep.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from '@playwright/test';

export interface Mail {
  to: string;
  subject: string;
  /** The body, transfer encoding undone. */
  text: string;
}

function outbox(): string {
  const dir = process.env.E2E_MAIL_OUTBOX;
  if (!dir) throw new Error('E2E_MAIL_OUTBOX is not set (see playwright.config.ts)');
  return dir;
}

/** Undoes quoted-printable (lettre uses it for long lines and non-ASCII text). */
export function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function parse(raw: string): Mail {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  // Folded header lines continue with whitespace.
  const headers = head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/);
  const header = (name: string) =>
    headers.find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim() ?? '';
  const encoding = header('Content-Transfer-Encoding').toLowerCase();
  let text = body;
  if (encoding === 'quoted-printable') text = decodeQuotedPrintable(body);
  else if (encoding === 'base64') text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { to: header('To'), subject: header('Subject'), text: text.replace(/\r\n/g, '\n') };
}

/** Every message in the outbox sent to `address`, oldest first. */
export function mailsTo(address: string): Mail[] {
  const dir = outbox();
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.eml'))
    .map((name) => path.join(dir, name))
    .map((file) => ({ file, time: fs.statSync(file).mtimeMs }))
    .sort((a, b) => a.time - b.time)
    .map(({ file }) => parse(fs.readFileSync(file, 'utf8')))
    .filter((mail) => mail.to.toLowerCase().includes(address.toLowerCase()));
}

/** Waits for message number `count` with `subject` to `address`, and returns it. */
export async function waitForMail(address: string, subject: string, count = 1): Promise<Mail> {
  const matching = () => mailsTo(address).filter((m) => m.subject === subject);
  await expect
    .poll(() => matching().length, { message: `${count} "${subject}" email(s) to ${address}`, timeout: 10_000 })
    .toBeGreaterThanOrEqual(count);
  return matching()[count - 1];
}

/** The password-reset link in the newest reset email to `address` (the `count`th one). */
export async function resetLink(address: string, count = 1): Promise<string> {
  const mail = await waitForMail(address, 'Reset your Microblog password', count);
  const link = mail.text.match(/https?:\/\/\S+\/reset\?token=\S+/)?.[0];
  expect(link, `a reset link in:\n${mail.text}`).toBeTruthy();
  return link!;
}
