/**
 * Our JPEG decode against the authors' pipeline, PIL's `Image.open(p).convert('RGB')` on
 * libjpeg-turbo. The fixtures in ./fixtures/jpeg are tiny synthetic JPEGs made by
 * scripts/make-jpeg-fixtures.py, each with PIL's decoded RGB beside it (CI has no Python); the
 * shared photos are checked against SHA-256s of PIL's decode, taken with PIL 9.4.0 / libjpeg-turbo
 * 2.1.5 (skipped when the shared folder is missing).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CamError } from '../engine/errors';
import { decodeImage } from './files';
import { cmykToRgbLikePil } from './jpegDecode';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(HERE, 'fixtures', 'jpeg');
const ROOT = path.resolve(HERE, '../..');
const SHARED = path.resolve(process.env.FUSION_CAM_SHARED ?? path.join(ROOT, '../shared'));

interface FixtureCase {
  name: string;
  width: number;
  height: number;
  pilMode: string;
  what: string;
}
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'fixtures.json'), 'utf8')) as { cases: FixtureCase[] };
const jpegOf = (name: string) => fs.readFileSync(path.join(FIXTURES, `${name}.jpg`));

/** Max |a − b| over the RGB samples, and where the first difference is (for the failure message). */
function compareRgb(img: ReturnType<typeof decodeImage>, pil: Uint8Array): { max: number; first: string } {
  let max = 0;
  let first = 'none';
  for (let i = 0; i < pil.length; i++) {
    const d = Math.abs(img.data[i] - pil[i]);
    if (d > 0 && first === 'none') first = `pixel (${Math.floor(i / 3) % img.width}, ${Math.floor(i / 3 / img.width)}) channel ${i % 3}: ours ${img.data[i]}, PIL ${pil[i]}`;
    max = Math.max(max, d);
  }
  return { max, first };
}

describe('JPEG decode equals PIL + libjpeg-turbo byte for byte', () => {
  it('the fixtures cover every decode path we claim', () => {
    const names = manifest.cases.map((c) => c.name);
    for (const kind of ['444', '422', '420', '440', '411', 'prog', 'grey', 'cmyk', 'restart', 'exif'])
      expect(names.some((n) => n.includes(kind)), kind).toBe(true);
    expect(manifest.cases.map((c) => c.pilMode).sort()).toContain('CMYK');
  });

  for (const c of manifest.cases) {
    it(`${c.name}: ${c.what}`, () => {
      const img = decodeImage(jpegOf(c.name), `${c.name}.jpg`);
      const pil = fs.readFileSync(path.join(FIXTURES, `${c.name}.rgb`));
      expect([img.width, img.height, img.channels]).toEqual([c.width, c.height, 3]);
      expect(img.data.length).toBe(pil.length);
      const { max, first } = compareRgb(img, pil);
      expect(max, `first difference: ${first}`).toBe(0);
    });
  }

  it('bytes after the end-of-image marker and junk before it change nothing (PIL ignores both too)', () => {
    const jpg = jpegOf('420_q95_17x33');
    const pil = fs.readFileSync(path.join(FIXTURES, '420_q95_17x33.rgb'));
    const eoi = jpg.length - 2;
    expect([jpg[eoi], jpg[eoi + 1]]).toEqual([0xff, 0xd9]);
    const trailing = Buffer.concat([jpg, Buffer.from('appended by some uploader')]);
    const junkBeforeEoi = Buffer.concat([jpg.subarray(0, eoi), Buffer.from([1, 2, 3]), jpg.subarray(eoi)]);
    for (const buf of [trailing, junkBeforeEoi]) expect(compareRgb(decodeImage(buf), pil).max).toBe(0);
  });
});

describe("PIL's CMYK → RGB step", () => {
  it('matches values worked out by hand from Pillow 9.4 cmyk2rgb', () => {
    // libjpeg hands back Adobe-inverted inks: raw = 255 − ink
    const inks = [
      [0, 0, 0, 0], // white paper
      [0, 0, 0, 255], // full black
      [255, 0, 0, 0], // cyan
      [100, 50, 20, 30], // nk = 225: R = 225 − ((22628 >> 8) + 22628 >> 8) = 225 − 88
    ];
    const raw = Uint8Array.from(inks.flat().map((v) => 255 - v));
    const rgb = new Uint8Array(inks.length * 3);
    cmykToRgbLikePil(raw, rgb, inks.length);
    expect(Array.from(rgb)).toEqual([255, 255, 255, 0, 0, 0, 0, 255, 255, 137, 181, 207]);
  });
});

describe('broken or unsupported JPEGs get one clear message', () => {
  const base = () => Buffer.from(jpegOf('444_q95_17x33'));
  const sofAt = (b: Buffer) => b.indexOf(Buffer.from([0xff, 0xc0]));
  const decodeError = (buf: Buffer): CamError => {
    try {
      decodeImage(buf, 'x.jpg');
    } catch (e) {
      expect(e).toBeInstanceOf(CamError);
      return e as CamError;
    }
    throw new Error('decoded without an error');
  };

  it('truncated anywhere, even just before the end-of-image marker (PIL: "image file is truncated")', () => {
    const jpg = base();
    for (const keep of [0.1, 0.5, 0.9, (jpg.length - 2) / jpg.length]) {
      const e = decodeError(jpg.subarray(0, Math.floor(jpg.length * keep)));
      expect(e.message).toMatch(/^x\.jpg could not be decoded \(truncated: .*\); is it a complete PNG or JPEG\?$/);
      expect(e.code).toBe('bad-image');
    }
  });

  it('an unknown marker in the data is corrupt data', () => {
    const jpg = base();
    const sos = jpg.indexOf(Buffer.from([0xff, 0xda]));
    jpg[sos + 40] = 0xff;
    jpg[sos + 41] = 0x07;
    expect(decodeError(jpg).message).toMatch(/x\.jpg could not be decoded \(corrupt data: unknown marker 0x07/);
  });

  it('arithmetic coding, 12-bit samples, 2 colour components and a zero height are refused by name', () => {
    const arith = base();
    arith[sofAt(arith) + 1] = 0xc9;
    expect(decodeError(arith).message).toContain('arithmetic-coded JPEG is not supported');
    const twelve = base();
    twelve[sofAt(twelve) + 4] = 12;
    expect(decodeError(twelve).message).toContain('12-bit JPEG is not supported');
    const two = base();
    two[sofAt(two) + 9] = 2;
    expect(decodeError(two).message).toContain('2 colour components are not supported');
    const empty = base();
    empty[sofAt(empty) + 5] = 0;
    empty[sofAt(empty) + 6] = 0;
    expect(decodeError(empty).message).toContain('empty image (17×0)');
  });

  it('a frame over 200 megapixels is refused from its header, before any decoding', () => {
    const huge = base();
    const sof = sofAt(huge);
    huge.writeUInt16BE(20000, sof + 5); // height
    huge.writeUInt16BE(20000, sof + 7); // width
    const e = decodeError(huge);
    expect(e.message).toBe('x.jpg is too large (20000×20000)');
    expect(e.code).toBe('too-large');
  });
});

// SHA-256 of PIL's `Image.open(p).convert('RGB').tobytes()` (PIL 9.4.0, libjpeg-turbo 2.1.5)
const PIL_SHA256: [string, number, number, string][] = [
  ['photos/dog.jpg', 768, 576, 'bd6a179ed7d1bd7854dca517afb82e4de37b209f675171eb31c29ce3b4de18a6'],
  ['photos/eagle.jpg', 773, 512, '2fbe72a74c86e0e7ad48cb31e357ae8032a4b6894f7ea068646b23f639148adb'],
  ['photos/giraffe.jpg', 500, 500, 'f82745d2f36aee489253361debf835a1a56c141dc8f5bdd00797071a21e89083'],
  ['photos/horses.jpg', 773, 512, '7a86a7250df108b1c7a584fe2286039a52b521ca6f20859d0d2c2bfddbe7f8f4'],
  ['photos/kite.jpg', 1352, 900, '7596765e9d7aaf1155e2f0617ccde16045dc021e642702cd18fb4da021abf046'],
  ['photos/person.jpg', 640, 424, '7cc18a5271e4391a45e05d7a21bc8134810766ea5d684519030802c8fc3b0bcf'],
  ['photos/scream.jpg', 352, 448, 'a998f865112013cd99c00b0a4db83ebfc7b5023f7e900244425fe7643cd0c0b6'],
];

describe.skipIf(!fs.existsSync(path.join(SHARED, 'images', 'photos')))('the shared photos decode to PIL\'s pixels', () => {
  for (const [file, width, height, sha] of PIL_SHA256) {
    it(file, () => {
      const img = decodeImage(fs.readFileSync(path.join(SHARED, 'images', file)), file);
      expect([img.width, img.height, img.channels]).toEqual([width, height, 3]);
      expect(createHash('sha256').update(img.data).digest('hex')).toBe(sha);
    });
  }
});
