#!/usr/bin/env node
// Explains one image with the fusion-cam library in Node:
//   node examples/node-explain.mjs <model folder | model.json | URL> <image.jpg|png> [out.f32]
// Prints the class, the top 5 and a summary of each map as one JSON object; with out.f32 it also
// writes the Fusion-CAM map (H×W little-endian float32, like `fusion-cam explain`).
import fs from 'node:fs/promises';
import { createExplainer, decodeImageBytes } from 'fusion-cam';

const [model, imageFile, outFile] = process.argv.slice(2);
if (!model || !imageFile) {
  console.error('usage: node node-explain.mjs <model> <image> [out.f32]');
  process.exit(2);
}
const ex = await createExplainer({ model, backend: 'wasm' });
try {
  const image = await decodeImageBytes(await fs.readFile(imageFile), imageFile);
  const r = await ex.explain(image, { methods: ['gradcam', 'scorecam', 'fusioncam'], theta: 10, tau: 1 });
  const summary = Object.fromEntries(
    Object.entries(r.maps).map(([m, map]) => {
      let min = Infinity, max = -Infinity, sum = 0;
      for (const v of map.data) { min = Math.min(min, v); max = Math.max(max, v); sum += v; }
      return [m, { width: map.width, height: map.height, min, max, mean: sum / map.data.length }];
    }),
  );
  console.log(JSON.stringify({ classIndex: r.classIndex, className: r.className, probability: r.probability, top5: r.top5, layer: r.layer, maps: summary }, null, 2));
  if (outFile) await fs.writeFile(outFile, Buffer.from(r.maps.fusioncam.data.buffer));
} finally {
  await ex.dispose();
}
