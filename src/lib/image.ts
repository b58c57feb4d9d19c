/** The images the library accepts, turned into the engine's RgbImage (8-bit RGB or RGBA). */
import { CamError } from '../engine/errors';
import type { RgbImage } from '../engine/image';

/** Decoded pixels: `data` holds 3 (RGB) or 4 (RGBA) bytes per pixel, row-major. `ImageData` fits. */
export interface PixelImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** Pixels, or (in a browser) anything a canvas can draw. */
export type ImageInput = PixelImage | ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

function fromPixels(img: PixelImage): RgbImage {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new CamError(`The image size must be whole numbers ≥ 1, got ${width}×${height}`, 'bad-image');
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) throw new CamError('image.data must be a Uint8Array or Uint8ClampedArray of RGB or RGBA bytes', 'bad-image');
  const channels = data.length / (width * height);
  if (channels !== 3 && channels !== 4) throw new CamError(`image.data has ${data.length} bytes for ${width}×${height} pixels: expected 3 (RGB) or 4 (RGBA) per pixel`, 'bad-image');
  return { width, height, data, channels };
}

/** Draws a browser image on a canvas and reads its RGBA bytes back (no colour management applied by us). */
function fromDrawable(img: CanvasImageSource & { width: number; height: number }): RgbImage {
  const el = img as HTMLImageElement;
  const width = el.naturalWidth || img.width;
  const height = el.naturalHeight || img.height;
  if (el instanceof Object && 'complete' in el && !el.complete) throw new CamError('The <img> has not finished loading (await img.decode() first)', 'bad-image');
  if (!width || !height) throw new CamError('The image has no pixels (not loaded, or 0×0)', 'bad-image');
  const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) throw new CamError('No 2D canvas context to read the image with', 'bad-image');
  ctx.drawImage(img, 0, 0, width, height);
  const { data } = ctx.getImageData(0, 0, width, height);
  return { width, height, data, channels: 4 };
}

export function toRgbImage(image: ImageInput): RgbImage {
  if (!image || typeof image !== 'object') throw new CamError('explain() needs an image: { width, height, data } or (in a browser) an ImageData, ImageBitmap, <img> or <canvas>', 'bad-image');
  if ('data' in image && (image as PixelImage).data) return fromPixels(image as PixelImage);
  if (typeof document === 'undefined' && typeof OffscreenCanvas === 'undefined') throw new CamError('Outside a browser explain() takes { width, height, data } pixels', 'bad-image');
  return fromDrawable(image as CanvasImageSource & { width: number; height: number });
}
