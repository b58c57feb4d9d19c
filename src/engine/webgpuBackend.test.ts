/** WebGPU adapter classification (what "auto" and `bench --gpu` rely on to avoid software GPUs). */
import { describe, expect, it } from 'vitest';
import { describeAdapter, isSoftwareAdapter, type WebgpuAdapterInfo } from './webgpuBackend';
import { gpuBackends } from '../../bench/gpu';

const adapter = (a: Partial<WebgpuAdapterInfo>): WebgpuAdapterInfo => ({ vendor: '', architecture: '', device: '', description: '', isFallbackAdapter: false, ...a });

describe('WebGPU adapters', () => {
  it('a fallback adapter or a SwiftShader / llvmpipe one is software; a named GPU is not', () => {
    // what Chromium 156 reports here with --enable-unsafe-webgpu
    expect(isSoftwareAdapter(adapter({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: 'google', architecture: 'swiftshader' }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' }))).toBe(false);
    expect(isSoftwareAdapter(adapter({ vendor: 'nvidia', isFallbackAdapter: true }))).toBe(true);
    expect(describeAdapter(adapter({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }))).toBe('google · swiftshader (fallback adapter)');
  });
  it('bench --gpu measures only hardware backends, and says why it skips the others', () => {
    const sw = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
    expect(gpuBackends({ webglRenderer: sw, webgpu: adapter({ architecture: 'swiftshader', isFallbackAdapter: true }), hasNavigatorGpu: true })).toEqual({
      measure: [],
      skipped: { webgl: `software renderer: ${sw}`, webgpu: 'software adapter: swiftshader (fallback adapter)' },
    });
    expect(gpuBackends({ webglRenderer: 'ANGLE (NVIDIA, Vulkan 1.3 (NVIDIA H200))', webgpu: adapter({ vendor: 'nvidia', architecture: 'hopper' }), hasNavigatorGpu: true }).measure).toEqual(['webgl', 'webgpu']);
    expect(gpuBackends({ webglRenderer: null, webgpu: null, hasNavigatorGpu: false }).skipped).toEqual({ webgl: 'WebGL is not available', webgpu: 'WebGPU is not available' });
  });
});
