// Draws the app's icons (style/icons/*.png, named by style/manifest.webmanifest) from the
// same shapes as style/favicon.svg: a rounded blue square with a white "M". Run once after
// changing the design, and commit the PNGs: `node style/make-icons.mjs`. No dependencies,
// nothing downloaded; the same Node version writes the same bytes.
//
// Each pixel is sampled 8×8 times; the coverage of the square and of the letter, in nine
// steps each, picks a palette entry, so the files are small 8-bit palette PNGs.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BLUE = [0x2f, 0x5d, 0x8a];
const WHITE = [0xff, 0xff, 0xff];
// The "M" of favicon.svg, in its 32-unit box.
const LETTER = [
  [8, 22], [8, 10], [11, 10], [16, 17], [21, 10], [24, 10], [24, 22], [21, 22], [21, 15], [16, 21.5], [11, 15], [11, 22],
];

function inside(polygon, x, y) {
  let odd = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) odd = !odd;
  }
  return odd;
}

function inRoundedSquare(x, y, radius) {
  const cx = Math.min(Math.max(x, radius), 32 - radius);
  const cy = Math.min(Math.max(y, radius), 32 - radius);
  return x >= 0 && x <= 32 && y >= 0 && y <= 32 && (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
}

/**
 * `size`×`size` pixels. `maskable`: the square fills the whole image (the platform cuts
 * its own shape) and the letter shrinks into the safe zone, the middle 80%.
 */
function draw(size, maskable) {
  const steps = 8;
  const levels = steps * steps;
  const scale = maskable ? 0.8 : 1;
  const pixels = new Uint8Array(size * size * 2); // [square coverage, letter coverage], 0..8
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let square = 0;
      let letter = 0;
      for (let sy = 0; sy < steps; sy++) {
        for (let sx = 0; sx < steps; sx++) {
          const x = ((px + (sx + 0.5) / steps) / size) * 32;
          const y = ((py + (sy + 0.5) / steps) / size) * 32;
          if (maskable || inRoundedSquare(x, y, 7)) square++;
          if (inside(LETTER, (x - 16) / scale + 16, (y - 16) / scale + 16)) letter++;
        }
      }
      pixels[(py * size + px) * 2] = Math.round((square / levels) * 8);
      pixels[(py * size + px) * 2 + 1] = Math.round((letter / levels) * 8);
    }
  }
  return pixels;
}

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  let crc = 0xffffffff;
  for (const byte of body) crc = CRC[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}

function png(size, maskable) {
  const pixels = draw(size, maskable);
  // The palette: one entry per (square, letter) coverage pair that occurs.
  const index = new Map();
  const colours = [];
  const rows = Buffer.alloc(size * (size + 1));
  for (let py = 0; py < size; py++) {
    rows[py * (size + 1)] = 0; // filter: none
    for (let px = 0; px < size; px++) {
      const key = pixels[(py * size + px) * 2] * 9 + pixels[(py * size + px) * 2 + 1];
      if (!index.has(key)) {
        index.set(key, colours.length);
        colours.push(key);
      }
      rows[py * (size + 1) + 1 + px] = index.get(key);
    }
  }
  if (colours.length > 256) throw new Error('too many colours');
  const palette = Buffer.alloc(colours.length * 3);
  const alpha = Buffer.alloc(colours.length);
  colours.forEach((key, i) => {
    const square = Math.floor(key / 9) / 8;
    const letter = (key % 9) / 8;
    // The letter lies inside the square: where it covers, white over blue.
    const opacity = Math.max(square, letter);
    for (let c = 0; c < 3; c++) {
      const over = letter / (opacity || 1);
      palette[i * 3 + c] = Math.round(WHITE[c] * over + BLUE[c] * (1 - over));
    }
    alpha[i] = Math.round(opacity * 255);
  });
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 3; // palette
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('PLTE', palette),
    chunk('tRNS', alpha),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const dir = new URL('./icons/', import.meta.url);
for (const [name, size, maskable] of [
  ['icon-192.png', 192, false],
  ['icon-512.png', 512, false],
  ['maskable-512.png', 512, true],
]) {
  const bytes = png(size, maskable);
  writeFileSync(new URL(name, dir), bytes);
  console.log(`${name}: ${bytes.length} bytes`);
}
