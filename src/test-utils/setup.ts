/** Shared test set-up: the cpu backend (silenced), and CamModels from tiny net specs. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { CamModel } from '../engine/model/camModel';
import { PREPROCESSING } from '../engine/model/descriptor';
import type { NetSpec } from './jsnet';
import { buildLayersModel } from './tinyNets';

export async function useCpuBackend(): Promise<void> {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false; // no 'use tfjs-node' banner
  await tf.setBackend('cpu');
  await tf.ready();
}

export function camModelFor(spec: NetSpec, name = 'tiny'): CamModel {
  return new CamModel(buildLayersModel(spec), { id: name, name, url: '', preprocessing: PREPROCESSING.raw });
}

/** Number of live tensors, for leak checks. */
export const liveTensors = (): number => tf.memory().numTensors;
