"""MobileNet v1 in PyTorch with the exact weights of a TF.js LayersModel (model.json + shards).

Built so that the Fusion-CAM authors' PyTorch code can run on the very model our engine runs:
the layers are read from the Keras config in model.json (not hard-coded), so alpha 0.25 and
0.75 (and any other width) load the same way, and a layer the port does not understand stops
it with an error instead of being silently approximated.

Conventions kept from Keras / TF.js:
- padding 'same' is TensorFlow's: for stride 2 on an even input the extra row/column goes at
  the bottom/right (PyTorch's symmetric padding would shift every feature map by one pixel);
- Conv2D kernels are HWIO -> OIHW, DepthwiseConv2D kernels (H, W, C, 1) -> (C, 1, H, W) with
  groups=C; BatchNormalization uses the epsilon of the config, Dropout is the identity;
- the model returns the LOGITS (the output of conv_preds, before act_softmax), because the
  authors' code scores Score-CAM channels and back-propagates Grad-CAM from output[0, c] and
  applies torch.softmax itself where it needs probabilities.

Every Keras layer becomes a PyTorch module with the same name inside `model.features` (up to
the global pooling), so `model.features.conv_pw_13_relu` is the layer our engine targets by
default, and it is also what the authors' ModelLoader.get_target_layer picks (features[-1]).

Input: NCHW float32 in the model's input space, RGB/127.5 - 1 (see `load_image`).
"""
import json
import math
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def _same_pad(size, k, s):
    """TensorFlow 'same' padding along one axis: (before, after)."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class TFSameConv2d(nn.Conv2d):
    """nn.Conv2d with TensorFlow 'same' padding (asymmetric when needed), or 'valid'."""

    def __init__(self, *args, tf_padding='same', **kwargs):
        super().__init__(*args, padding=0, **kwargs)
        self.tf_padding = tf_padding

    def forward(self, x):
        if self.tf_padding == 'same':
            top, bottom = _same_pad(x.shape[-2], self.kernel_size[0], self.stride[0])
            left, right = _same_pad(x.shape[-1], self.kernel_size[1], self.stride[1])
            if top or bottom or left or right:
                x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


class Head(nn.Module):
    """global_average_pooling2d -> reshape (1,1,C) -> dropout (identity) -> conv_preds: logits."""

    def __init__(self, channels, classes):
        super().__init__()
        self.conv_preds = nn.Conv2d(channels, classes, 1, bias=True)

    def forward(self, x):
        return self.conv_preds(x.mean(dim=(2, 3), keepdim=True)).flatten(1)


class MobileNetV1FromTFJS(nn.Module):
    def __init__(self, features, head):
        super().__init__()
        self.features = features
        self.head = head

    def forward(self, x):
        return self.head(self.features(x))


def _read_weights(model_dir, manifest):
    """name -> float32 numpy array, from the weightsManifest groups (shards concatenated)."""
    out = {}
    for group in manifest:
        buf = b''.join(open(os.path.join(model_dir, p), 'rb').read() for p in group['paths'])
        off = 0
        for w in group['weights']:
            if w.get('dtype', 'float32') != 'float32' or 'quantization' in w:
                raise ValueError(f"{w['name']}: only unquantised float32 weights are supported")
            n = int(np.prod(w['shape'])) if w['shape'] else 1
            out[w['name']] = np.frombuffer(buf, '<f4', n, off).reshape(w['shape']).copy()
            off += 4 * n
        if off != len(buf):
            raise ValueError(f"group {group['paths']}: {len(buf)} bytes, weights use {off}")
    return out


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def load_mobilenet_v1(model_dir):
    """Builds the network described by model_dir/model.json and loads its weights (eval mode)."""
    spec = json.load(open(os.path.join(model_dir, 'model.json')))
    topo = spec['modelTopology']
    cfg = topo.get('model_config', topo)['config']
    W = _read_weights(model_dir, spec['weightsManifest'])
    used = set()

    def take(name):
        used.add(name)
        return W[name]

    layers = OrderedDict()
    channels = None
    head = None
    for layer in cfg['layers']:
        cls, c, name = layer['class_name'], layer['config'], layer['config']['name']
        if cls == 'InputLayer':
            channels = c['batch_input_shape'][-1]
        elif cls in ('Conv2D', 'DepthwiseConv2D') and head is None:
            if c.get('dilation_rate', [1, 1]) != [1, 1] or c.get('activation', 'linear') != 'linear':
                raise ValueError(f'{name}: dilation or fused activation not supported')
            k, s = c['kernel_size'], c['strides']
            if cls == 'Conv2D':
                w = take(f'{name}/kernel')  # HWIO
                conv = TFSameConv2d(w.shape[2], w.shape[3], k, s, bias=c['use_bias'], tf_padding=c['padding'])
                conv.weight.data = _t(w.transpose(3, 2, 0, 1))
            else:
                if c.get('depth_multiplier', 1) != 1:
                    raise ValueError(f'{name}: depth_multiplier != 1 not supported')
                w = take(f'{name}/depthwise_kernel')  # (H, W, C, 1)
                conv = TFSameConv2d(w.shape[2], w.shape[2], k, s, groups=w.shape[2], bias=c['use_bias'], tf_padding=c['padding'])
                conv.weight.data = _t(w.transpose(2, 3, 0, 1))
            if c['use_bias']:
                conv.bias.data = _t(take(f'{name}/bias'))
            layers[name] = conv
            channels = conv.out_channels
        elif cls == 'BatchNormalization':
            if not (c.get('center', True) and c.get('scale', True)) or c.get('axis', -1) not in (-1, 3, [3], [-1]):
                raise ValueError(f'{name}: unsupported BatchNormalization config')
            bn = nn.BatchNorm2d(channels, eps=c['epsilon'])
            bn.weight.data = _t(take(f'{name}/gamma'))
            bn.bias.data = _t(take(f'{name}/beta'))
            bn.running_mean.data = _t(take(f'{name}/moving_mean'))
            bn.running_var.data = _t(take(f'{name}/moving_variance'))
            layers[name] = bn
        elif cls in ('Activation', 'ReLU'):
            act = c.get('activation', 'relu6' if c.get('max_value') == 6 else 'relu')
            if act == 'softmax':
                continue  # act_softmax: the model stops at the logits (see module docstring)
            if act != 'relu6':
                raise ValueError(f'{name}: activation {act} not supported')
            layers[name] = nn.ReLU6(inplace=False)  # not in-place: full backward hooks sit on it
        elif cls == 'ZeroPadding2D':
            (t, b), (l, r) = c['padding']
            layers[name] = nn.ZeroPad2d((l, r, t, b))
        elif cls == 'GlobalAveragePooling2D':
            head = channels
        elif cls in ('Reshape', 'Dropout'):
            continue  # reshape to (1,1,C) / (classes,) and inference-time dropout: shape only
        elif cls == 'Conv2D' and head is not None and name == 'conv_preds':
            w = take(f'{name}/kernel')
            h = Head(w.shape[2], w.shape[3])
            h.conv_preds.weight.data = _t(w.transpose(3, 2, 0, 1))
            h.conv_preds.bias.data = _t(take(f'{name}/bias'))
            head = h
        else:
            raise ValueError(f'layer {name} ({cls}) not supported by this port')
    if not isinstance(head, Head):
        raise ValueError('no conv_preds head found')
    unused = set(W) - used
    if unused:
        raise ValueError(f'weights not used: {sorted(unused)}')
    model = MobileNetV1FromTFJS(nn.Sequential(layers), head)
    return model.eval()


def load_image(path, size=224):
    """The authors' torchvision pipeline (Resize((224,224)) = PIL bilinear, ToTensor) with
    MobileNet v1's own normalisation (x/127.5 - 1, i.e. mean=std=0.5) instead of the ImageNet
    mean/std their torchvision models need. Returns a (1, 3, H, W) float32 tensor."""
    from PIL import Image
    from torchvision import transforms
    t = transforms.Compose([
        transforms.Resize((size, size)),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5]),
    ])
    return t(Image.open(path).convert('RGB')).unsqueeze(0)


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser(description='Load a TF.js MobileNet v1 in PyTorch and print the top-5 logits.')
    ap.add_argument('--model-dir', required=True)
    ap.add_argument('--image', required=True)
    a = ap.parse_args()
    m = load_mobilenet_v1(a.model_dir)
    with torch.no_grad():
        z = m(load_image(a.image))[0]
    top = torch.topk(z, 5)
    print(json.dumps([{'index': int(i), 'logit': float(v)} for v, i in zip(top.values, top.indices)]))
