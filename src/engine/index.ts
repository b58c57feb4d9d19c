/** The engine's public surface: plain TypeScript on tfjs, shared by the app, the CLI and the tests. */
export * from './errors';
export * from './maps';
export * from './image';
export * from './fusion';
export * from './session';
export * from './model/descriptor';
export * from './model/camModel';
export * from './model/artifacts';
export * from './methods/gradient';
export * from './methods/region';
export { scoreCam } from './methods/scoreCam';
export { REGION_METHODS } from './methods/registry';
export { registerWasmFallbackKernels } from './wasmKernels';
export * from './model/registry';
export * from './render';
