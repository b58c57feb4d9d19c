/**
 * Where the forward pass's time goes on wasm, and how far it is from what wasm SIMD can do on this
 * CPU: the ceiling under every Score-CAM speed-up that keeps the results (Score-CAM needs one
 * forward pass per distinct channel mask, so only the time per pass can shrink).
 *
 * 1. The V8 wasm SIMD peak: a loop of independent f32x4 multiply + add on registers (no memory
 *    traffic), i.e. an upper bound no convolution kernel can pass.
 * 2. Per convolution kernel of the fused forward pass (batch B): ms per image and GFLOP/s
 *    (2 · output size · kernel size), and the share of the forward pass they take.
 * 3. The forward pass per image if every convolution ran at that peak and the rest stayed as is.
 *
 * Prints JSON and writes bench/results-ceiling.json. Measures, never judges.
 *
 *   npm run bench:ceiling [-- --models mobilenet_v1_0.75_224 --batch 16]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flag, root, shared } from './benchArgs';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../src/node/backend';
import { loadLayersModelFromPathOrUrl } from '../src/node/files';
import { CamModel, PREPROCESSING } from '../src/engine/index';

const models = flag('models', 'mobilenet_v1_0.25_224,mobilenet_v1_0.75_224').split(',');
const B = Number(flag('batch', '16'));
const out = flag('out', path.join(root, 'bench/results-ceiling.json'));
const log = (m: string) => process.stderr.write(`[ceiling] ${m}\n`);

function leb(n: number): number[] {
  const bytes: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    bytes.push(b);
  } while (n);
  return bytes;
}
const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];

/**
 * run(n): n iterations of { x = splat(load f32); acc_i += x · b_(i mod 4), i < 8 } — 64 flops,
 * 8 independent chains (enough to hide the add latency), 13 v128 locals (fits 16 registers).
 */
export function simdPeakModule(): Uint8Array<ArrayBuffer> {
  const ACC = 8;
  const NB = 4;
  const X = 1;
  const A0 = 2;
  const B0 = A0 + ACC;
  const f32 = (v: number) => [...new Uint8Array(new Float32Array([v, v, v, v]).buffer)];
  const code: number[] = [];
  for (let j = 0; j < NB; j++) code.push(0xfd, 0x0c, ...f32(0.99 + j * 0.001), 0x21, B0 + j); // v128.const; local.set
  code.push(0x03, 0x40); // loop
  code.push(0x20, 0, 0x41, 0xfc, 0x07, 0x71, 0xfd, 0x09, 0x02, 0x00, 0x21, X); // x = v128.load32_splat(n & 1020)
  for (let i = 0; i < ACC; i++) code.push(0x20, A0 + i, 0x20, X, 0x20, B0 + (i % NB), 0xfd, 0xe6, 0x01, 0xfd, 0xe4, 0x01, 0x21, A0 + i); // acc += x·b
  code.push(0x20, 0, 0x41, 0x01, 0x6b, 0x22, 0, 0x0d, 0, 0x0b); // br_if (n = n − 1); end
  code.push(0x20, A0);
  for (let i = 1; i < ACC; i++) code.push(0x20, A0 + i, 0xfd, 0xe4, 0x01);
  code.push(0xfd, 0x1f, 0x00, 0x0b); // f32x4.extract_lane 0; end
  const body = [1, 1 + ACC + NB, 0x7b, ...code];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]), // (i32) → f32
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]), // one page of memory
    ...section(7, [1, 3, 0x72, 0x75, 0x6e, 0, 0]), // export "run"
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

async function simdPeakGflops(): Promise<number> {
  const instance = await WebAssembly.instantiate(new WebAssembly.Module(simdPeakModule()));
  const run = instance.exports.run as (n: number) => number;
  // many short calls first: V8 compiles the loop with its optimizing tier only after it got hot
  for (let i = 0; i < 3000; i++) run(10_000);
  let best = 0;
  for (let r = 0; r < 9; r++) {
    const n = 5_000_000;
    const t = performance.now();
    run(n);
    best = Math.max(best, (n * 64) / (performance.now() - t) / 1e6);
  }
  return best;
}

interface ConvRow {
  kernel: string;
  input: number[];
  filter: number[];
  msPerImage: number;
  mflopPerImage: number;
  gflops: number;
}

async function profileModel(id: string) {
  const dir = path.join(shared, 'models', id);
  const m = await loadLayersModelFromPathOrUrl(dir);
  const numClasses = (m.outputs[0].shape[1] as number) ?? 1000;
  const cm = new CamModel(m, { id, name: id, url: dir, preprocessing: PREPROCESSING.mobilenet, labels: Array.from({ length: numClasses }, (_, i) => `class ${i}`) });
  const [H, W] = cm.inputSize;
  const x = tf.randomUniform([B, H, W, 3], -1, 1) as tf.Tensor4D;
  const forward = async () => {
    const y = cm.logits(x);
    await y.data();
    y.dispose();
  };
  for (let i = 0; i < 3; i++) await forward();
  let forwardMs = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await forward();
    forwardMs = Math.min(forwardMs, performance.now() - t);
  }
  // per kernel, the fastest of 3 profiled runs (kernels appear in the same order each run)
  const rows: ConvRow[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const prof = await tf.profile(forward);
    let j = 0;
    for (const k of prof.kernels) {
      if (k.name !== 'FusedConv2D' && k.name !== 'FusedDepthwiseConv2D' && k.name !== 'Conv2D' && k.name !== 'DepthwiseConv2dNative') continue;
      const ms = Number(await k.kernelTimeMs) || 0;
      const outShape = k.outputShapes[0] as number[];
      const filter = k.inputShapes[1] as number[];
      // output elements × multiply-adds per output element (depthwise: kh·kw per channel)
      const macsPerOut = k.name.includes('Depthwise') ? filter[0] * filter[1] : filter[0] * filter[1] * filter[2];
      const mflop = (2 * outShape[1] * outShape[2] * outShape[3] * macsPerOut) / 1e6;
      if (rep === 0) rows.push({ kernel: k.name, input: (k.inputShapes[0] as number[]).slice(1), filter, msPerImage: ms / B, mflopPerImage: mflop, gflops: 0 });
      else rows[j].msPerImage = Math.min(rows[j].msPerImage, ms / B);
      j++;
    }
  }
  for (const r of rows) r.gflops = r.mflopPerImage / r.msPerImage;
  x.dispose();
  cm.dispose();
  const convMs = rows.reduce((s, r) => s + r.msPerImage, 0);
  const convMflop = rows.reduce((s, r) => s + r.mflopPerImage, 0);
  return { model: id, batch: B, forwardMsPerImage: forwardMs / B, convMsPerImage: convMs, convMflopPerImage: convMflop, convGflops: convMflop / convMs, layers: rows };
}

// before the tfjs backend starts: V8 compiles its big module in the background for a while
log('wasm SIMD peak (multiply + add on registers)');
const peak = await simdPeakGflops();
log(`peak ${peak.toFixed(1)} GFLOP/s`);
await initNodeBackend('wasm');
const results = [];
for (const id of models) {
  log(`${id}, batch ${B}`);
  const r = await profileModel(id);
  const otherMs = Math.max(0, r.forwardMsPerImage - r.convMsPerImage);
  const atPeak = r.convMflopPerImage / peak + otherMs;
  results.push({ ...r, convShare: r.convMsPerImage / r.forwardMsPerImage, convShareOfPeak: r.convGflops / peak, forwardMsPerImageIfConvsAtPeak: atPeak });
  log(`${id}: forward ${r.forwardMsPerImage.toFixed(1)} ms/image, convolutions ${r.convMsPerImage.toFixed(1)} ms (${r.convMflopPerImage.toFixed(0)} MFLOP, ${r.convGflops.toFixed(1)} GFLOP/s = ${((100 * r.convGflops) / peak).toFixed(0)} % of peak); at peak ${atPeak.toFixed(1)} ms/image`);
}
const cpus = os.cpus();
const report = {
  kind: 'ceiling',
  date: new Date().toISOString(),
  machine: { os: `${os.type()} ${os.release()} ${os.arch()}`, cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, loadAverage: os.loadavg() },
  node: process.version,
  tfjs: tf.version_core,
  wasmSimdPeakGflops: peak,
  results,
};
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
process.stdout.write(JSON.stringify({ ...report, results: results.map(({ layers, ...rest }) => ({ ...rest, layers: layers.length })) }, null, 2) + '\n');
log(`wrote ${path.relative(process.cwd(), out)}`);
