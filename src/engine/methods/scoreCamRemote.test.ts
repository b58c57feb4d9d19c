/**
 * Score-CAM split over two engines (the app's helper worker on the second core): the remote
 * scorer takes batches from the back of the channel order while the session scores from the
 * front. The result must be the single-engine result, whatever the remote does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ExplanationSession } from '../session';
import { camModelFor, liveTensors, useCpuBackend } from '../../test-utils/setup';
import { randomInput, sequentialNet, toFloat32 } from '../../test-utils/tinyNets';
import type { RegionVariant } from './region';

beforeAll(useCpuBackend);

const input = toFloat32(randomInput(7));
const variants: RegionVariant[] = ['reference', 'xplain', 'original'];

describe('Score-CAM with a remote scorer', () => {
  it.each(variants)('%s: same map and scores as one engine; the remote scores from the back, each channel once', async (variant) => {
    const model = camModelFor(sequentialNet(3));
    const before = liveTensors();
    const plain = await ExplanationSession.create(model, input, 'relu2');
    const expected = await plain.regionMap(1, { variant, batchSize: 1 });

    const main = await ExplanationSession.create(model, input, 'relu2');
    const remote = await ExplanationSession.create(model, input, 'relu2');
    const asked: number[][] = [];
    const got = await main.regionMap(1, {
      variant,
      batchSize: 1,
      remoteScores: (channels) => {
        asked.push(channels);
        return remote.scoreCamChannelScores(1, variant, channels, 1);
      },
    });
    expect(Array.from(got.map)).toEqual(Array.from(expected.map));
    expect(Array.from(got.scores)).toEqual(Array.from(expected.scores));
    expect(got.forwardPasses).toBe(expected.forwardPasses);
    // the remote got work, from the back of the order, and no channel twice
    const remoteChannels = asked.flat();
    expect(remoteChannels.length).toBeGreaterThan(0);
    for (let i = 1; i < remoteChannels.length; i++) expect(remoteChannels[i]).toBeLessThan(remoteChannels[i - 1]);
    expect(new Set(remoteChannels).size).toBe(remoteChannels.length);
    expect(remote.forwardPasses - 1).toBe(remoteChannels.length);
    expect(got.info).toEqual({ remotePasses: remoteChannels.length });
    for (const s of [plain, main, remote]) s.dispose();
    expect(liveTensors()).toBe(before);
    model.dispose();
  });

  it('a remote that fails: its batches are scored here, the result is unchanged', async () => {
    const model = camModelFor(sequentialNet(3));
    const plain = await ExplanationSession.create(model, input, 'relu2');
    const expected = await plain.regionMap(2, { batchSize: 2 });
    const main = await ExplanationSession.create(model, input, 'relu2');
    let calls = 0;
    const got = await main.regionMap(2, {
      batchSize: 2,
      remoteScores: async () => {
        calls++;
        throw new Error('helper gone');
      },
    });
    expect(calls).toBe(2); // the two batches kept in flight from the start, then never again
    expect(Array.from(got.map)).toEqual(Array.from(expected.map));
    expect(got.forwardPasses).toBe(expected.forwardPasses);
    plain.dispose();
    main.dispose();
    model.dispose();
  });

  it('after an abort, a late remote reply starts no more remote work', async () => {
    const model = camModelFor(sequentialNet(3));
    const main = await ExplanationSession.create(model, input, 'relu2');
    const abort = new AbortController();
    let calls = 0;
    const releases: (() => void)[] = [];
    const run = main.regionMap(0, {
      batchSize: 1,
      signal: abort.signal,
      onProgress: () => abort.abort(), // abort after the first local batch
      remoteScores: (channels) => {
        calls++;
        return new Promise<Float32Array>((resolve) => {
          releases.push(() => resolve(new Float32Array(channels.length)));
        });
      },
    });
    await expect(run).rejects.toThrow(/Cancelled/);
    expect(calls).toBe(2); // the two kept in flight
    releases.forEach((r) => r());
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(2);
    main.dispose();
    model.dispose();
  });

  it('rejects channels outside the layer', async () => {
    const model = camModelFor(sequentialNet(3));
    const s = await ExplanationSession.create(model, input, 'relu2');
    await expect(s.scoreCamChannelScores(0, 'reference', [0, 6])).rejects.toThrow(/Channel 6 is out of range: layer relu2 has 6 channels/);
    s.dispose();
    model.dispose();
  });
});
