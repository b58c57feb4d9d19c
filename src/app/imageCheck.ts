/**
 * A file is checked before it replaces the current image: a file that is not an image, is empty,
 * truncated, corrupted or an SVG gets one clear message and the previous image and its results
 * stay on screen. Only the newest of several quickly dropped files is loaded.
 */
import { useAppStore } from './store';
import { loadImage } from './engineClient';

export type ImageKind = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'avif' | 'svg' | 'unknown';

/** The format by its first bytes (the name and MIME type are only hints). */
export function sniffImage(head: Uint8Array): ImageKind {
  const at = (i: number, ...bytes: number[]) => bytes.every((b, k) => head[i + k] === b);
  const ascii = (i: number, s: string) => at(i, ...Array.from(s, (c) => c.charCodeAt(0)));
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (ascii(0, 'BM')) return 'bmp';
  if (ascii(4, 'ftyp') && (ascii(8, 'avif') || ascii(8, 'avis'))) return 'avif';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 512)).trimStart().toLowerCase();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg')) || (text.startsWith('<!doctype svg'))) return 'svg';
  return 'unknown';
}

/** One line for a file that cannot be used as the image, or null if it decodes. */
export async function imageProblem(blob: Blob): Promise<string | null> {
  if (blob.size === 0) return 'The file is empty (0 bytes).';
  const kind = sniffImage(new Uint8Array(await blob.slice(0, 512).arrayBuffer()));
  if (kind === 'svg' || blob.type === 'image/svg+xml') {
    // never rendered: an SVG is a document that may carry script and remote references
    return 'SVG drawings are not supported: export it as PNG or JPEG and load that.';
  }
  if (kind === 'unknown') {
    return blob.type && !blob.type.startsWith('image/')
      ? `This file is not an image (type ${blob.type}); use a JPEG, PNG, WebP, GIF, BMP or AVIF file.`
      : 'This file is not an image the browser can read; use a JPEG, PNG, WebP, GIF, BMP or AVIF file.';
  }
  try {
    // a tiny decode: the browser reads the whole file but keeps only 8×8 pixels
    const bitmap = await createImageBitmap(blob, { resizeWidth: 8, resizeHeight: 8, resizeQuality: 'low' });
    bitmap.close();
  } catch {
    return `This ${kind.toUpperCase()} file could not be decoded: it is truncated or corrupted.`;
  }
  return null;
}

/** Whether the file holds more than one frame (animated GIF, APNG, animated WebP): the browser decodes only the first. */
export function isAnimated(bytes: Uint8Array, kind: ImageKind): boolean {
  const ascii = (i: number, t: string) => Array.from(t).every((c, k) => bytes[i + k] === c.charCodeAt(0));
  if (kind === 'png') {
    // an acTL chunk before the first IDAT makes an APNG
    let i = 8;
    while (i + 8 <= bytes.length) {
      const len = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
      if (ascii(i + 4, 'acTL')) return true;
      if (ascii(i + 4, 'IDAT')) return false;
      i += 12 + len;
    }
    return false;
  }
  if (kind === 'webp') return ascii(12, 'VP8X') && (bytes[20] & 0x02) !== 0;
  if (kind === 'gif') return gifFrames(bytes) > 1;
  return false;
}

/** Image descriptors in a GIF, walking its blocks (stops at 2). */
function gifFrames(b: Uint8Array): number {
  let i = 13;
  if (b[10] & 0x80) i += 3 * (1 << ((b[10] & 7) + 1));
  let frames = 0;
  const skipSub = () => {
    while (i < b.length && b[i] !== 0) i += b[i] + 1;
    i++;
  };
  while (i < b.length) {
    const t = b[i];
    if (t === 0x2c) {
      frames++;
      if (frames > 1) return frames;
      const packed = b[i + 9];
      i += 10;
      if (packed & 0x80) i += 3 * (1 << ((packed & 7) + 1));
      i++; // LZW minimum code size
      skipSub();
    } else if (t === 0x21) {
      i += 2;
      skipSub();
    } else break;
  }
  return frames;
}

let latestRequest = 0;

/** Checks `blob`, then loads it; a newer call supersedes this one. Nothing changes on failure but the message. */
export async function loadCheckedImage(blob: Blob, name: string): Promise<void> {
  const request = ++latestRequest;
  const problem = await imageProblem(blob);
  if (request !== latestRequest) return;
  if (problem) {
    useAppStore.getState().setInput({ error: `${name}: ${problem}` });
    return;
  }
  loadImage(blob, name);
  const kind = sniffImage(new Uint8Array(await blob.slice(0, 512).arrayBuffer()));
  if (kind === 'gif' || kind === 'png' || kind === 'webp') {
    const bytes = new Uint8Array(await blob.slice(0, Math.min(blob.size, 8 << 20)).arrayBuffer());
    if (request === latestRequest && isAnimated(bytes, kind)) {
      const { input, setInput } = useAppStore.getState();
      setInput({ notes: [`This is an animated image: its first frame is explained.`, ...input.notes] });
    }
  }
}
