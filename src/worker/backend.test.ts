/** "auto": WebGPU only on a hardware adapter that a probe finds faster than what auto would pick otherwise. */
import { describe, expect, it } from 'vitest';
import { autoOrder, type AutoInputs } from './backend';
import type { WebgpuAdapterInfo } from '../engine/webgpuBackend';

const gpu = (a: Partial<WebgpuAdapterInfo>): WebgpuAdapterInfo => ({ vendor: '', architecture: '', device: '', description: '', isFallbackAdapter: false, ...a });
const HW_GL = 'ANGLE (NVIDIA, Vulkan 1.3 (NVIDIA H200))';
const SW_GL = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';

async function order(inputs: AutoInputs, times: { a: number; b: number } | null) {
  const probed: string[][] = [];
  const r = await autoOrder(inputs, async (a, b) => {
    probed.push([a, b]);
    return times;
  });
  return { ...r, probed };
}

describe('auto backend order', () => {
  it('a hardware WebGPU adapter faster than hardware WebGL comes first', async () => {
    const r = await order({ webglRenderer: HW_GL, webgpu: gpu({ vendor: 'nvidia', architecture: 'hopper' }) }, { a: 2, b: 3 });
    expect(r.probed).toEqual([['webgpu', 'webgl']]);
    expect(r.order).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(r.note).toMatch(/WebGPU was faster than webgl/);
  });
  it('a slower one does not; against software WebGL the yardstick is wasm', async () => {
    expect((await order({ webglRenderer: HW_GL, webgpu: gpu({ vendor: 'nvidia' }) }, { a: 4, b: 3 })).order).toEqual(['webgl', 'wasm', 'cpu']);
    const r = await order({ webglRenderer: SW_GL, webgpu: gpu({ vendor: 'nvidia' }) }, { a: 1, b: 3 });
    expect(r.probed).toEqual([['webgpu', 'wasm']]);
    expect(r.order).toEqual(['webgpu', 'wasm', 'cpu']);
  });
  it('a software or fallback adapter, or none, is never probed nor picked', async () => {
    for (const webgpu of [gpu({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }), gpu({ vendor: 'google', architecture: 'swiftshader' }), gpu({ vendor: 'x', isFallbackAdapter: true }), null]) {
      const r = await order({ webglRenderer: SW_GL, webgpu }, { a: 0, b: 100 });
      expect(r.probed).toEqual([]);
      expect(r.order).toEqual(['wasm', 'cpu']);
      expect(r.note).toMatch(/WebGL is software-rendered/);
    }
  });
  it('a probe that cannot run leaves WebGPU out', async () => {
    expect((await order({ webglRenderer: HW_GL, webgpu: gpu({ vendor: 'amd' }) }, null)).order).toEqual(['webgl', 'wasm', 'cpu']);
  });
});
