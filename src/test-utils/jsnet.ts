/**
 * A plain-JS (float64, no tfjs) description and evaluator of tiny conv nets, used as the
 * independent reference for the engine's tests. The same description is turned into a real
 * tfjs-layers model by `buildLayersModel` (tinyNets.ts), with identical weights.
 */

/** A tensor without batch dimension: [h, w, c] (NHWC) or [n]. */
export interface JsTensor {
  shape: number[];
  data: Float64Array;
}

export type Activation = 'linear' | 'relu' | 'softmax';

export type NetNode =
  | { name: string; kind: 'input'; shape: [number, number, number] }
  | {
      name: string;
      kind: 'conv';
      input: string;
      filters: number;
      kernel: [number, number];
      strides: number;
      padding: 'same' | 'valid';
      activation: Activation;
    }
  | { name: string; kind: 'act'; input: string; activation: Activation }
  | { name: string; kind: 'gap'; input: string }
  | { name: string; kind: 'dense'; input: string; units: number; activation: Activation }
  | { name: string; kind: 'add'; inputs: [string, string] }
  | { name: string; kind: 'reshape'; input: string; targetShape: number[] };

export interface NetSpec {
  nodes: NetNode[];
  /** conv/dense node name → [kernel, bias]; kernel layout as tfjs ([kh,kw,cin,cout] / [in,out]). */
  weights: Map<string, { kernel: Float64Array; kernelShape: number[]; bias: Float64Array }>;
  /** Build as tf.sequential (a chain) rather than a functional model. */
  sequential: boolean;
}

/** Deterministic PRNG (mulberry32), uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [-scale, scale], rounded to float32 so tfjs holds exactly the same numbers. */
export function uniform(n: number, scale: number, rand: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround((rand() * 2 - 1) * scale);
  return out;
}

export function conv2d(
  x: JsTensor,
  kernel: Float64Array,
  kernelShape: number[],
  bias: Float64Array,
  strides: number,
  padding: 'same' | 'valid',
): JsTensor {
  const [h, w, cin] = x.shape;
  const [kh, kw, kcin, cout] = kernelShape;
  if (kcin !== cin) throw new Error('conv2d: channel mismatch');
  let oh: number, ow: number, padTop: number, padLeft: number;
  if (padding === 'same') {
    // TensorFlow SAME: output ceil(in/s), the odd padding pixel goes to the bottom/right.
    oh = Math.ceil(h / strides);
    ow = Math.ceil(w / strides);
    padTop = Math.floor(Math.max((oh - 1) * strides + kh - h, 0) / 2);
    padLeft = Math.floor(Math.max((ow - 1) * strides + kw - w, 0) / 2);
  } else {
    oh = Math.ceil((h - kh + 1) / strides);
    ow = Math.ceil((w - kw + 1) / strides);
    padTop = 0;
    padLeft = 0;
  }
  const out = new Float64Array(oh * ow * cout);
  for (let oy = 0; oy < oh; oy++)
    for (let ox = 0; ox < ow; ox++)
      for (let co = 0; co < cout; co++) {
        let s = bias[co];
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * strides + ky - padTop;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * strides + kx - padLeft;
            if (ix < 0 || ix >= w) continue;
            for (let ci = 0; ci < cin; ci++) s += x.data[(iy * w + ix) * cin + ci] * kernel[((ky * kw + kx) * cin + ci) * cout + co];
          }
        }
        out[(oy * ow + ox) * cout + co] = s;
      }
  return { shape: [oh, ow, cout], data: out };
}

export function dense(x: JsTensor, kernel: Float64Array, bias: Float64Array, units: number): JsTensor {
  const n = x.data.length;
  const out = new Float64Array(units);
  for (let u = 0; u < units; u++) {
    let s = bias[u];
    for (let i = 0; i < n; i++) s += x.data[i] * kernel[i * units + u];
    out[u] = s;
  }
  return { shape: [units], data: out };
}

/** Softmax over the last axis. */
export function softmaxLast(x: JsTensor): JsTensor {
  const c = x.shape[x.shape.length - 1];
  const out = new Float64Array(x.data.length);
  for (let o = 0; o < x.data.length; o += c) {
    let m = -Infinity;
    for (let i = 0; i < c; i++) m = Math.max(m, x.data[o + i]);
    let s = 0;
    for (let i = 0; i < c; i++) s += Math.exp(x.data[o + i] - m);
    for (let i = 0; i < c; i++) out[o + i] = Math.exp(x.data[o + i] - m) / s;
  }
  return { shape: x.shape, data: out };
}

function activate(x: JsTensor, a: Activation, logitsOnly: boolean): JsTensor {
  if (a === 'relu') return { shape: x.shape, data: x.data.map((v) => (v > 0 ? v : 0)) };
  if (a === 'softmax') return logitsOnly ? x : softmaxLast(x);
  return x;
}

export interface EvalOptions {
  /** Treat every softmax as the identity, so the output is the logits. */
  logitsOnly?: boolean;
}

/**
 * Evaluates every node in order. Values in `feed` replace what a node would compute (feed
 * the input, and optionally an overridden intermediate activation).
 */
export function evaluate(spec: NetSpec, feed: Map<string, JsTensor>, opts: EvalOptions = {}): Map<string, JsTensor> {
  const v = new Map<string, JsTensor>();
  for (const node of spec.nodes) {
    const fed = feed.get(node.name);
    if (fed) {
      v.set(node.name, fed);
      continue;
    }
    const get = (n: string) => {
      const t = v.get(n);
      if (!t) throw new Error(`jsnet: ${n} not computed`);
      return t;
    };
    let out: JsTensor;
    switch (node.kind) {
      case 'input':
        throw new Error('jsnet: the input must be fed');
      case 'conv': {
        const wt = spec.weights.get(node.name)!;
        out = activate(conv2d(get(node.input), wt.kernel, wt.kernelShape, wt.bias, node.strides, node.padding), node.activation, !!opts.logitsOnly);
        break;
      }
      case 'act':
        out = activate(get(node.input), node.activation, !!opts.logitsOnly);
        break;
      case 'gap': {
        const x = get(node.input);
        const [h, w, c] = x.shape;
        const d = new Float64Array(c);
        for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) d[k] += x.data[i * c + k];
        out = { shape: [c], data: d.map((s) => s / (h * w)) };
        break;
      }
      case 'dense': {
        const wt = spec.weights.get(node.name)!;
        out = activate(dense(get(node.input), wt.kernel, wt.bias, node.units), node.activation, !!opts.logitsOnly);
        break;
      }
      case 'add': {
        const a = get(node.inputs[0]);
        const b = get(node.inputs[1]);
        out = { shape: a.shape, data: a.data.map((x, i) => x + b.data[i]) };
        break;
      }
      case 'reshape':
        out = { shape: node.targetShape, data: get(node.input).data };
        break;
    }
    v.set(node.name, out);
  }
  return v;
}

export function outputName(spec: NetSpec): string {
  return spec.nodes[spec.nodes.length - 1].name;
}

/** Logits (pre-softmax class scores) of one input image [H, W, 3]. */
export function jsLogits(spec: NetSpec, x: JsTensor, override?: [string, JsTensor]): Float64Array {
  const feed = new Map([[spec.nodes[0].name, x]]);
  if (override) feed.set(override[0], override[1]);
  return evaluate(spec, feed, { logitsOnly: true }).get(outputName(spec))!.data;
}

export function jsActivation(spec: NetSpec, x: JsTensor, layer: string): JsTensor {
  return evaluate(spec, new Map([[spec.nodes[0].name, x]]), { logitsOnly: true }).get(layer)!;
}

export function softmaxAt(z: ArrayLike<number>, c: number): number {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += Math.exp(z[i] - m);
  return Math.exp(z[c] - m) / s;
}
