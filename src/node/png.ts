/**
 * PNG on node:zlib, so the CLI needs no PNG package. Decoding gives 8-bit RGBA exactly as pngjs's
 * PNG.sync.read does (every colour type, bit depths 1–16 rescaled with round(v·255/max),
 * palette and tRNS transparency, Adam7 interlacing; CRCs checked); encoding writes 8-bit RGBA
 * with filter 0. Tested against pngjs (src/node/png.test.ts), kept as a devDependency for that.
 */
import zlib from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, 8 bits per sample, row-major. */
  data: Uint8Array;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Undoes the scanline filters of one (sub-)image in place; returns the offset after it. */
function unfilter(raw: Uint8Array, offset: number, w: number, h: number, bitsPerPixel: number, out: (y: number, line: Uint8Array) => void): number {
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const stride = Math.ceil((w * bitsPerPixel) / 8);
  let prev: Uint8Array = new Uint8Array(stride);
  for (let y = 0; y < h; y++) {
    if (offset + 1 + stride > raw.length) throw new Error('the image data ends early');
    const type = raw[offset];
    const line = raw.subarray(offset + 1, offset + 1 + stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      const x = line[i];
      switch (type) {
        case 0: break;
        case 1: line[i] = x + a; break;
        case 2: line[i] = x + b; break;
        case 3: line[i] = x + ((a + b) >> 1); break;
        case 4: line[i] = x + paeth(a, b, c); break;
        default: throw new Error(`unknown filter type ${type}`);
      }
    }
    out(y, line);
    prev = line;
    offset += 1 + stride;
  }
  return offset;
}

/** Decodes a PNG into 8-bit RGBA; throws an Error naming what is wrong with the file. */
export function decodePng(buf: Uint8Array): DecodedPng {
  if (buf.length < 8 || !SIGNATURE.equals(Buffer.from(buf.buffer, buf.byteOffset, 8))) throw new Error('not a PNG file');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 8;
  let header: { width: number; height: number; depth: number; colorType: number; interlace: number } | null = null;
  let palette: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (!ended) {
    if (pos + 12 > buf.length) throw new Error('the file ends early');
    const len = view.getUint32(pos);
    const type = String.fromCharCode(buf[pos + 4], buf[pos + 5], buf[pos + 6], buf[pos + 7]);
    if (pos + 12 + len > buf.length) throw new Error(`the ${type} chunk is cut off`);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (crc32(buf, pos + 4, pos + 8 + len) !== view.getUint32(pos + 8 + len)) throw new Error(`CRC error in the ${type} chunk`);
    pos += 12 + len;
    if (type === 'IHDR') {
      const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
      header = { width: d.getUint32(0), height: d.getUint32(4), depth: data[8], colorType: data[9], interlace: data[12] };
      if (!(header.colorType in CHANNELS)) throw new Error(`unsupported colour type ${header.colorType}`);
      if (![1, 2, 4, 8, 16].includes(header.depth)) throw new Error(`unsupported bit depth ${header.depth}`);
      if (data[10] !== 0 || data[11] !== 0) throw new Error('unsupported compression or filter method');
    } else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') trns = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
  }
  if (!header) throw new Error('no IHDR chunk');
  const { width: w, height: h, depth, colorType, interlace } = header;
  if (colorType === 3 && !palette) throw new Error('a palette image without a palette');
  const ch = CHANNELS[colorType];
  const bitsPerPixel = ch * depth;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const max = 2 ** depth - 1;
  const out = new Uint8Array(w * h * 4);
  const trnsKey = trns && colorType !== 3 ? Array.from({ length: trns.length / 2 }, (_, i) => (trns![2 * i] << 8) | trns![2 * i + 1]) : null;
  const sample = (line: Uint8Array, x: number, k: number): number => {
    if (depth === 8) return line[x * ch + k];
    if (depth === 16) return (line[(x * ch + k) * 2] << 8) | line[(x * ch + k) * 2 + 1];
    const bit = (x * ch + k) * depth;
    return (line[bit >> 3] >> (8 - depth - (bit & 7))) & max;
  };
  const scale = (v: number) => (depth === 8 ? v : Math.floor((v * 255) / max + 0.5));
  const put = (px: number, line: Uint8Array, x: number) => {
    const o = px * 4;
    if (colorType === 3) {
      const i = sample(line, x, 0);
      if (i * 3 + 2 >= palette!.length) throw new Error(`index ${i} not in palette`);
      out[o] = palette![i * 3];
      out[o + 1] = palette![i * 3 + 1];
      out[o + 2] = palette![i * 3 + 2];
      out[o + 3] = trns && i < trns.length ? trns[i] : 255;
      return;
    }
    const s = [0, 0, 0, 0].slice(0, ch).map((_, k) => sample(line, x, k));
    const [r, g, b, a] = ch <= 2 ? [s[0], s[0], s[0], ch === 2 ? s[1] : max] : [s[0], s[1], s[2], ch === 4 ? s[3] : max];
    if (trnsKey && (trnsKey.length === 1 ? trnsKey[0] === s[0] : trnsKey[0] === s[0] && trnsKey[1] === s[1] && trnsKey[2] === s[2])) return; // stays 0, 0, 0, 0 (as pngjs)
    out[o] = scale(r);
    out[o + 1] = scale(g);
    out[o + 2] = scale(b);
    out[o + 3] = scale(a);
  };
  if (interlace === 0) {
    unfilter(raw, 0, w, h, bitsPerPixel, (y, line) => {
      for (let x = 0; x < w; x++) put(y * w + x, line, x);
    });
  } else {
    let offset = 0;
    for (const [x0, y0, dx, dy] of ADAM7) {
      const pw = Math.ceil((w - x0) / dx);
      const ph = Math.ceil((h - y0) / dy);
      if (pw <= 0 || ph <= 0) continue;
      offset = unfilter(raw, offset, pw, ph, bitsPerPixel, (y, line) => {
        for (let x = 0; x < pw; x++) put((y0 + y * dy) * w + x0 + x * dx, line, x);
      });
    }
  }
  return { width: w, height: h, data: out };
}

function chunk(type: string, data: Uint8Array): Buffer {
  const b = Buffer.alloc(12 + data.length);
  b.writeUInt32BE(data.length, 0);
  b.write(type, 4, 'latin1');
  b.set(data, 8);
  b.writeUInt32BE(crc32(b, 4, 8 + data.length), 8 + data.length);
  return b;
}

/** Encodes 8-bit RGBA pixels as a PNG (no interlacing, filter 0 on every row). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (rgba.length !== width * height * 4) throw new Error(`encodePng: ${rgba.length} bytes for ${width}×${height} RGBA`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const raw = Buffer.alloc(height * (1 + width * 4));
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (1 + width * 4) + 1);
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}
