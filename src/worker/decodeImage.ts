/**
 * Image decoding in the worker: the browser's own decoder (JPEG, PNG, WebP, GIF first frame,
 * BMP, AVIF) via createImageBitmap, EXIF orientation applied. Pixels are read at full
 * resolution (capped) for the model input, and a small bitmap is made for display.
 */
import type { RgbImage } from '../engine/image';
import { CamError } from '../engine/errors';

/** Above this many pixels the image is first shrunk by the browser (memory: 4 bytes per pixel). */
export const MAX_MODEL_SOURCE_PIXELS = 40_000_000;

/**
 * 'none' conversions: the file's own 8-bit values. Chromium decodes JPEG with libjpeg-turbo's
 * defaults, as PIL does, so with these options the pixels equal the authors' pipeline's
 * (`Image.open(p).convert('RGB')`) byte for byte (e2e/input.spec.ts checks it on the PIL-decoded
 * fixtures), except that EXIF orientation is applied here and not by PIL.
 */
export const DECODE_OPTIONS: ImageBitmapOptions = { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' };

export interface DecodedImage {
  width: number;
  height: number;
  /** RGBA pixels for the model input (possibly shrunk from a huge original). */
  rgba: RgbImage;
  /** RGBA pixels of the display copy (read here, so the page never reads back a bitmap). */
  display: { width: number; height: number; pixels: Uint8ClampedArray<ArrayBuffer> };
}

function fit(width: number, height: number, maxSide: number): [number, number] {
  const s = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * s)), Math.max(1, Math.round(height * s))];
}

/** A bitmap's RGBA pixels, as read for the model input (also for live camera frames: the same read). */
export function bitmapPixels(bitmap: ImageBitmap): RgbImage & { data: Uint8ClampedArray<ArrayBuffer> } {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new CamError('The browser could not create a 2D canvas to read the image', 'canvas');
  ctx.drawImage(bitmap, 0, 0);
  return { width: bitmap.width, height: bitmap.height, data: ctx.getImageData(0, 0, bitmap.width, bitmap.height).data, channels: 4 };
}

export async function decodeImage(blob: Blob, displayMaxSide: number): Promise<DecodedImage> {
  if (blob.size === 0) throw new CamError('The file is empty', 'not-image');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, DECODE_OPTIONS);
  } catch {
    if (blob.type && !blob.type.startsWith('image/')) {
      throw new CamError(`This file is not an image (type ${blob.type}); use a JPEG, PNG, WebP, GIF or BMP file`, 'not-image');
    }
    throw new CamError('This file could not be decoded as an image (not an image, or a corrupted or unsupported file)', 'not-image');
  }
  const { width, height } = bitmap;
  if (width < 1 || height < 1) {
    bitmap.close();
    throw new CamError('The image has no pixels', 'not-image');
  }
  if (width * height > MAX_MODEL_SOURCE_PIXELS) {
    const s = Math.sqrt(MAX_MODEL_SOURCE_PIXELS / (width * height));
    const shrunk = await createImageBitmap(bitmap, { resizeWidth: Math.floor(width * s), resizeHeight: Math.floor(height * s), resizeQuality: 'high' });
    bitmap.close();
    bitmap = shrunk;
  }
  const { data } = bitmapPixels(bitmap);
  const [dw, dh] = fit(width, height, displayMaxSide);
  const small = await createImageBitmap(bitmap, { resizeWidth: dw, resizeHeight: dh, resizeQuality: 'high' });
  const dc = new OffscreenCanvas(dw, dh).getContext('2d', { willReadFrequently: true })!;
  dc.drawImage(small, 0, 0);
  small.close();
  const display = { width: dw, height: dh, pixels: dc.getImageData(0, 0, dw, dh).data };
  const rgba: RgbImage = { width: bitmap.width, height: bitmap.height, data, channels: 4 };
  bitmap.close();
  return { width, height, rgba, display };
}
