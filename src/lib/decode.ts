/** Image files → pixels for Node users (a browser decodes with createImageBitmap / <img>). */
import { CamError } from '../engine/errors';
import { isNode } from './backend';
import type { PixelImage } from './image';

/**
 * Decodes PNG or JPEG bytes (recognised by content) into RGB or RGBA pixels. Node only; JPEG
 * is decoded with libjpeg-turbo exactly as PIL's `Image.open(p).convert('RGB')`.
 */
export async function decodeImageBytes(bytes: Uint8Array, name = 'image'): Promise<PixelImage> {
  if (!isNode()) throw new CamError('decodeImageBytes runs in Node; in a browser pass an ImageBitmap, <img> or ImageData to explain()', 'bad-image');
  const { decodeImage } = await import('../node/files');
  const img = decodeImage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), name);
  return { width: img.width, height: img.height, data: img.data };
}
