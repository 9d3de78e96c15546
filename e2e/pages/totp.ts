// RFC 6238 TOTP as an authenticator app computes it (SHA-1, 6 digits, 30-second steps),
// so the journeys can "scan" the secret the page shows.
import { createHmac } from 'node:crypto';

/** RFC 4648 base32 (the secret's alphabet); spaces, padding and case ignored. */
export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The time step now (what an app shows during these 30 seconds). */
export function currentStep(): number {
  return Math.floor(Date.now() / 1000 / 30);
}

/** The code for `step`, from the raw key (HOTP of the step, dynamic truncation). */
export function codeFromKey(key: Buffer, step: number, digits = 6): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const hmac = createHmac('sha1', key).update(counter).digest();
  const offset = hmac[hmac.length - 1] & 0x0f;
  const binary = hmac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The code for `step` of a base32 secret. */
export function totp(secret: string, step: number): string {
  return codeFromKey(base32Decode(secret), step);
}

/** Six digits that no step from `step - 1` to `step + 1` accepts. */
export function wrongCode(secret: string, step: number): string {
  const valid = new Set([-1, 0, 1].map((d) => totp(secret, step + d)));
  for (let n = 0; ; n++) {
    const candidate = String((Number(totp(secret, step)) + 1 + n) % 1_000_000).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}
