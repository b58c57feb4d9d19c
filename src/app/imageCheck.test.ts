/** The image format is read from the first bytes, whatever the name or MIME type claims. */
import { describe, expect, it } from 'vitest';
import { sniffImage, imageProblem } from './imageCheck';
import { HOSTILE_SVG, cmykJpeg, jpegImage, png16, pngImage } from '../../e2e/badImages';

const bytes = (b: Buffer | string) => new Uint8Array(typeof b === 'string' ? Buffer.from(b, 'latin1') : b);

describe('sniffImage', () => {
  it('recognises the raster formats the browser decodes', () => {
    expect(sniffImage(bytes(jpegImage(8, 8)))).toBe('jpeg');
    expect(sniffImage(bytes(cmykJpeg(8, 8)))).toBe('jpeg');
    expect(sniffImage(bytes(pngImage(2, 2)))).toBe('png');
    expect(sniffImage(bytes(png16(2, 2)))).toBe('png');
    expect(sniffImage(bytes('GIF89a\x01\x00\x01\x00'))).toBe('gif');
    expect(sniffImage(bytes('RIFF\x10\x00\x00\x00WEBPVP8 '))).toBe('webp');
    expect(sniffImage(bytes('BM\x36\x00\x00\x00'))).toBe('bmp');
    expect(sniffImage(bytes('\x00\x00\x00\x1cftypavif\x00\x00'))).toBe('avif');
  });
  it('recognises SVG by content, with or without an XML prolog or leading space', () => {
    expect(sniffImage(bytes(HOSTILE_SVG))).toBe('svg');
    expect(sniffImage(bytes('\n  <?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe('svg');
    expect(sniffImage(bytes('<SVG></SVG>'))).toBe('svg');
  });
  it('calls everything else unknown', () => {
    expect(sniffImage(bytes('%PDF-1.7'))).toBe('unknown');
    expect(sniffImage(bytes('hello'))).toBe('unknown');
    expect(sniffImage(new Uint8Array(0))).toBe('unknown');
    expect(sniffImage(bytes('<html><body>not a picture</body></html>'))).toBe('unknown');
  });
});

describe('imageProblem (the checks that need no decoder)', () => {
  it('names empty files, SVGs and non-images in one line', async () => {
    expect(await imageProblem(new Blob([]))).toBe('The file is empty (0 bytes).');
    expect(await imageProblem(new Blob([new Uint8Array(HOSTILE_SVG)], { type: 'image/png' }))).toMatch(/^SVG drawings are not supported/);
    expect(await imageProblem(new Blob(['hello'], { type: 'text/plain' }))).toMatch(/^This file is not an image \(type text\/plain\)/);
    expect(await imageProblem(new Blob(['%PDF-1.7'], { type: 'image/jpeg' }))).toMatch(/^This file is not an image the browser can read/);
  });
});
