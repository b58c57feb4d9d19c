import { describe, expect, it } from 'vitest';
import { pinFromParam, pinToParam } from './compareUrl';
import type { PinSpec } from './store/compare';

const spec: PinSpec = { modelId: 'mobilenet_v1_0.25_224', layer: 'conv_pw_11_relu', classIndex: 249, variant: 'xplain', gradientMethod: 'layercam', regionMethod: 'groupcam', theta: 25, tau: 0.5, weightsMode: 'manual', gamma: 0.3 };

describe('?pin= parameter', () => {
  it('reads back what it wrote, through URLSearchParams', () => {
    const q = new URLSearchParams();
    q.set('pin', pinToParam(spec));
    expect(pinFromParam(new URLSearchParams(q.toString()).get('pin'))).toEqual(spec);
  });

  it('spells the settings out', () => {
    expect(pinToParam({ ...spec, weightsMode: 'auto' })).toBe('model:mobilenet_v1_0.25_224,layer:conv_pw_11_relu,class:249,variant:xplain,gradient:layercam,region:groupcam,theta:25,tau:0.5,weights:auto');
  });

  it('refuses a pin with an unknown model, method, or an out-of-range number', () => {
    const p = pinToParam(spec);
    expect(pinFromParam(p.replace('mobilenet_v1_0.25_224', 'nope'))).toBeNull();
    expect(pinFromParam(p.replace('layercam', 'nope'))).toBeNull();
    expect(pinFromParam(p.replace('class:249', 'class:-1'))).toBeNull();
    expect(pinFromParam(p.replace('theta:25', 'theta:100'))).toBeNull();
    expect(pinFromParam(p.replace('tau:0.5', 'tau:0'))).toBeNull();
    expect(pinFromParam(p.replace('weights:0.3', 'weights:2'))).toBeNull();
    expect(pinFromParam(p.replace(',layer:conv_pw_11_relu', ''))).toBeNull();
    expect(pinFromParam(null)).toBeNull();
  });
});
