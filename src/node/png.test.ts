/**
 * The CLI's PNG codec against pngjs, an independent implementation: files of every colour type,
 * bit depth, filter type, with and without Adam7 interlacing and tRNS, are written by a plain
 * encoder in this file and decoded by both; our encoder's output is read back by pngjs.
 */
import { describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import { PNG } from 'pngjs';
import { decodePng, encodePng } from './png';

function crc(b: Buffer): number {
  let c = ~0;
  for (const v of b) {
    c ^= v;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc(body));
  return Buffer.concat([len, body, c]);
}

/** A seeded generator, so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Packs samples into one scanline of `depth` bits each, big-endian (the PNG layout). */
function packLine(samples: number[], depth: number): Buffer {
  const out = Buffer.alloc(Math.ceil((samples.length * depth) / 8));
  samples.forEach((v, i) => {
    if (depth === 16) out.writeUInt16BE(v, i * 2);
    else if (depth === 8) out[i] = v;
    else out[(i * depth) >> 3] |= v << (8 - depth - ((i * depth) & 7));
  });
  return out;
}

/** Filters a line with `type`, from the spec's definitions (raw[x] − predictor). */
function filterLine(line: Buffer, prev: Buffer, type: number, bpp: number): Buffer {
  const out = Buffer.alloc(line.length + 1);
  out[0] = type;
  for (let i = 0; i < line.length; i++) {
    const a = i >= bpp ? line[i - bpp] : 0;
    const b = prev[i] ?? 0;
    const c = i >= bpp ? prev[i - bpp] ?? 0 : 0;
    const p = a + b - c;
    const pr = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
    const pred = [0, a, b, (a + b) >> 1, pr][type];
    out[i + 1] = (line[i] - pred) & 0xff;
  }
  return out;
}

interface Case { colorType: number; depth: number; interlace: boolean; trns: boolean; w: number; h: number; seed: number }

function makePng(c: Case): Buffer {
  const ch = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[c.colorType]!;
  const rand = rng(c.seed);
  const max = 2 ** c.depth - 1;
  const paletteSize = Math.min(256, 2 ** c.depth);
  const px = Array.from({ length: c.w * c.h }, () => Array.from({ length: ch }, () => Math.floor(rand() * (c.colorType === 3 ? paletteSize : max + 1))));
  if (c.trns && c.colorType !== 3 && c.colorType !== 4 && c.colorType !== 6) px[1] = [...px[0]]; // two pixels carry the transparent key
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(c.w, 0);
  ihdr.writeUInt32BE(c.h, 4);
  ihdr[8] = c.depth;
  ihdr[9] = c.colorType;
  ihdr[12] = c.interlace ? 1 : 0;
  const passes = c.interlace
    ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]]
    : [[0, 0, 1, 1]];
  const bpp = Math.max(1, (ch * c.depth) >> 3);
  const lines: Buffer[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    let prev: Buffer = Buffer.alloc(0);
    for (let y = y0; y < c.h; y += dy) {
      const xs: number[] = [];
      for (let x = x0; x < c.w; x += dx) xs.push(x);
      if (xs.length === 0) break;
      const line = packLine(xs.flatMap((x) => px[y * c.w + x]), c.depth);
      lines.push(filterLine(line, prev, Math.floor(rand() * 5), bpp));
      prev = line;
    }
  }
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (c.colorType === 3) {
    parts.push(chunk('PLTE', Buffer.from(Array.from({ length: paletteSize * 3 }, () => Math.floor(rand() * 256)))));
    if (c.trns) parts.push(chunk('tRNS', Buffer.from(Array.from({ length: Math.max(1, paletteSize >> 1) }, () => Math.floor(rand() * 256)))));
  } else if (c.trns && (c.colorType === 0 || c.colorType === 2)) {
    parts.push(chunk('tRNS', Buffer.concat(px[0].map((v) => Buffer.from([v >> 8, v & 0xff])))));
  }
  const idat = zlib.deflateSync(Buffer.concat(lines));
  // split the data over two IDAT chunks, as encoders may
  const cut = idat.length >> 1;
  parts.push(chunk('IDAT', idat.subarray(0, cut)), chunk('IDAT', idat.subarray(cut)), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

const CASES: Case[] = [];
const depths: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
let seed = 1;
for (const [type, ds] of Object.entries(depths)) {
  for (const depth of ds) {
    for (const interlace of [false, true]) {
      for (const trns of type === '4' || type === '6' ? [false] : [false, true]) CASES.push({ colorType: Number(type), depth, interlace, trns, w: 13, h: 11, seed: seed++ });
    }
  }
}

describe('decodePng equals pngjs', () => {
  it.each(CASES)('colour type $colorType, $depth-bit, interlaced $interlace, tRNS $trns', (c) => {
    const file = makePng(c);
    const ref = PNG.sync.read(file);
    const ours = decodePng(file);
    expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
    expect(Buffer.from(ours.data).equals(ref.data)).toBe(true);
  });

  it('1×1 and wide odd sizes', () => {
    for (const [w, h] of [[1, 1], [1, 9], [37, 2]]) {
      const file = makePng({ colorType: 2, depth: 8, interlace: true, trns: false, w, h, seed: w * 100 + h });
      expect(Buffer.from(decodePng(file).data).equals(PNG.sync.read(file).data)).toBe(true);
    }
  });

  it('refuses a truncated file, a flipped byte (CRC) and a file that is not a PNG', () => {
    const file = makePng({ colorType: 6, depth: 8, interlace: false, trns: false, w: 8, h: 8, seed: 7 });
    expect(() => decodePng(file.subarray(0, file.length - 30))).toThrow();
    const flipped = Buffer.from(file);
    flipped[60] ^= 0x40;
    expect(() => decodePng(flipped)).toThrow(/CRC error/);
    expect(() => decodePng(Buffer.from('not a png at all'))).toThrow(/not a PNG/);
  });
});

describe('encodePng', () => {
  it('pngjs reads back exactly the RGBA bytes written', () => {
    const rand = rng(99);
    const [w, h] = [17, 5];
    const rgba = Uint8Array.from({ length: w * h * 4 }, () => Math.floor(rand() * 256));
    const png = PNG.sync.read(encodePng(w, h, rgba));
    expect([png.width, png.height]).toEqual([w, h]);
    expect(Buffer.from(rgba).equals(png.data)).toBe(true);
  });
});
