/** Node-side file access: model files from a folder, images decoded without native code (JPEG: libjpeg-turbo as wasm, PNG: png.ts on node:zlib). */
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodePng } from './png';
import { CamError } from '../engine/errors';
import { loadLayersModelFrom } from '../engine/model/artifacts';
import type { ModelFile } from '../engine/model/custom';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { LocalModelFiles } from '../engine/model/loadModel';
import type { RgbImage } from '../engine/image';
import { decodeJpeg, readJpegHeader } from './jpegDecode';

const MAX_PIXELS = 200e6;

/**
 * A model folder or model.json path as the files loadModel builds from: model.json, the shards
 * its manifest names (read when needed, so a missing one is named by the loader) and a
 * labels.json beside it, if any.
 */
export async function localModelFiles(source: string): Promise<LocalModelFiles> {
  let file = source;
  const stat = await fs.stat(file).catch(() => null);
  if (!stat) throw new CamError(`Model not found: ${source}`, 'not-found');
  if (stat.isDirectory()) file = path.join(file, 'model.json');
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new CamError(`Model not found: ${file}`, 'not-found');
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CamError(`${file} is not valid JSON, so it is not a TF.js model.json`, 'bad-model');
  }
  const dir = path.dirname(file);
  const read = (name: string) => async (): Promise<ArrayBuffer> => {
    const b = await fs.readFile(path.join(dir, name)).catch((e: NodeJS.ErrnoException) => {
      // "ENOENT: no such file or directory, open '…'" says the same thing less clearly
      throw new Error(e.code === 'ENOENT' ? `the file is missing from ${dir}` : e.message);
    });
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  };
  const jsonBytes = new TextEncoder().encode(text).buffer as ArrayBuffer;
  const files: ModelFile[] = [{ name: path.basename(file), arrayBuffer: async () => jsonBytes }];
  const manifest = (json as { weightsManifest?: { paths?: unknown }[] } | null)?.weightsManifest;
  if (Array.isArray(manifest)) {
    for (const g of manifest) for (const p of Array.isArray(g?.paths) ? g.paths : []) if (typeof p === 'string') files.push({ name: p, arrayBuffer: read(p) });
  }
  if (path.basename(file) !== 'labels.json' && (await fs.stat(path.join(dir, 'labels.json')).catch(() => null))) files.push({ name: 'labels.json', arrayBuffer: read('labels.json') });
  return {
    modelJson: file,
    files,
    readRelative: (rel) => fs.readFile(path.resolve(dir, rel), 'utf8'),
  };
}

/** A bare LayersModel from a folder or model.json path (tests, benches; the CLI uses loadModel). */
export async function loadLayersModelFromPathOrUrl(source: string): Promise<LayersModel> {
  const local = await localModelFiles(source);
  const json = JSON.parse(new TextDecoder().decode(await local.files[0].arrayBuffer())) as unknown;
  const byName = new Map(local.files.map((f) => [f.name, f]));
  return loadLayersModelFrom(json, (p) => byName.get(p)!.arrayBuffer(), local.modelJson);
}

/** Decodes a PNG or JPEG file (by content, not by name). */
export async function readImageFile(file: string): Promise<RgbImage> {
  const buf = await fs.readFile(file).catch(() => {
    throw new CamError(`Image not found: ${file}`, 'not-found');
  });
  return decodeImage(buf, file);
}

export function decodeImage(buf: Buffer, name = 'image'): RgbImage {
  if (buf.length === 0) throw new CamError(`${name} is empty`, 'bad-image');
  const isPng = buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47;
  const isJpeg = buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  try {
    if (isPng) {
      const png = decodePng(buf);
      if (png.width * png.height > MAX_PIXELS) throw new CamError(`${name} is too large (${png.width}×${png.height})`, 'too-large');
      return { width: png.width, height: png.height, data: png.data, channels: 4 };
    }
    if (isJpeg) {
      // the same RGB bytes as the authors' PIL + libjpeg-turbo decode (see jpegDecode.ts)
      const header = readJpegHeader(buf);
      if (header.width * header.height > MAX_PIXELS) throw new CamError(`${name} is too large (${header.width}×${header.height})`, 'too-large');
      return decodeJpeg(buf, header);
    }
  } catch (e) {
    if (e instanceof CamError) throw e;
    throw new CamError(`${name} could not be decoded (${(e as Error).message}); is it a complete PNG or JPEG?`, 'bad-image');
  }
  throw new CamError(`${name} is not a PNG or JPEG image`, 'bad-image');
}
