"""Times the Fusion-CAM authors' own PyTorch code (github.com/codeforpaper64/Fusion-CAM) on a
MobileNet v1 loaded from our TF.js model files, and optionally compares its maps with ours.

Their code is imported from --reference-dir (a checkout of their repository) and run as it is:
- only src/cams_methods/{base_cam,gradcam,scorecam,fusioncam}.py are imported, without the
  package __init__, because that __init__ also imports groupcam.py, which needs kornia (not in
  Debian; GroupCAM plays no part in Fusion-CAM). Their files are not modified;
- device=torch.device('cpu') is passed to their constructors (their default picks CUDA if any);
- the model and the target layer are ours (mobilenet_v1_from_tfjs.py, conv_pw_13_relu), the
  class is their default (target_class=None: the argmax of the logits, i.e. the top-1), θ is
  their default 10 and τ = 1 is hard-coded in their fusion step.
- the input is their torchvision pipeline with MobileNet's normalisation (see load_image), or,
  with --input-f32, the exact model input our CLI used (`explain --save-input`): the two agree
  to float rounding (our CLI decodes JPEG with libjpeg-turbo as PIL does, and resizes as Pillow).

Prints one JSON object: times in ms (median of --runs after --warmup), load averages, machine,
versions and, with --compare-with, max/mean |ours − theirs| per map and the logit check.
"""
import os

# torch's OpenMP threads already split the work; OpenBLAS's own pthreads on top of them
# oversubscribe the cores (measured: 2 torch threads, batch-1 forward 7.6 ms with 1 OpenBLAS thread,
# 15.1 ms with 2). A pip wheel's MKL shares torch's OpenMP pool, so 1 is the like-for-like setting.
# Must be set before numpy/torch load the BLAS.
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import argparse  # noqa: E402
import hashlib
import importlib
import json
import platform
import statistics
import subprocess
import sys
import time
import types

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mobilenet_v1_from_tfjs import load_image, load_mobilenet_v1  # noqa: E402

REF_FILES = ['base_cam.py', 'gradcam.py', 'scorecam.py', 'fusioncam.py']


def load_reference(ref_dir):
    """Their GradCAM, ScoreCAM, FusionCAM classes, imported without cams_methods/__init__.py."""
    pkg_dir = os.path.join(ref_dir, 'src', 'cams_methods')
    pkg = types.ModuleType('cams_methods')
    pkg.__path__ = [pkg_dir]  # a bare package: relative imports work, __init__ does not run
    sys.modules['cams_methods'] = pkg
    g = importlib.import_module('cams_methods.gradcam')
    s = importlib.import_module('cams_methods.scorecam')
    f = importlib.import_module('cams_methods.fusioncam')
    sha = {n: hashlib.sha256(open(os.path.join(pkg_dir, n), 'rb').read()).hexdigest()[:16] for n in REF_FILES}
    try:
        commit = subprocess.run(['git', '-C', ref_dir, 'rev-parse', 'HEAD'], capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        commit = None
    return g.GradCAM, s.ScoreCAM, f.FusionCAM, {'dir': os.path.abspath(ref_dir), 'commit': commit, 'sha256_16': sha}


def timed(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    load_before = os.getloadavg()
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    # wall time is the number; process CPU time is kept because, with 1 thread, it shows how much
    # of the wall time other processes took (wall ≫ cpu means the core was shared).
    return {'median_ms': round(statistics.median(times), 1), 'runs_ms': [round(t, 1) for t in times],
            'cpu_median_ms': round(statistics.median(cpu), 1),
            'loadavg_before': [round(v, 2) for v in load_before], 'loadavg_after': [round(v, 2) for v in os.getloadavg()]}


def cpu_name():
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def blas_library():
    """The BLAS this process really loaded. Debian's torch links the generic libblas.so.3: with
    the reference (Netlib) BLAS, 1-thread batch-1 1×1 convolutions (gemm) are several times slower
    than with OpenBLAS or the MKL of a pip wheel, so the number depends on it."""
    try:
        libs = {line.split()[-1] for line in open('/proc/self/maps') if 'blas' in line.split()[-1]}
        return sorted(libs)
    except OSError:
        return []


def diff(a, b):
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return {'max_abs': float(d.max()), 'mean_abs': float(d.mean()), 'argmax_rc': [int(v) for v in np.unravel_index(d.argmax(), d.shape)]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--reference-dir', required=True, help='checkout of github.com/codeforpaper64/Fusion-CAM')
    ap.add_argument('--model-dir', required=True, help='TF.js MobileNet v1 LayersModel folder (model.json + shards)')
    ap.add_argument('--image', required=True)
    ap.add_argument('--input-f32', help='use this model input (H×W×3 float32 LE, from `explain --save-input`) instead of PIL')
    ap.add_argument('--threads', type=int, default=1, help='torch.set_num_threads')
    ap.add_argument('--layer', default='conv_pw_13_relu')
    ap.add_argument('--theta', type=float, default=10)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--what', default='fusioncam,scorecam,gradcam,forward', help='what to time (comma list); empty for none')
    ap.add_argument('--compare-with', help="our CLI's explain JSON (<stem>.json next to its .f32 maps)")
    ap.add_argument('--save-maps', help='folder to write their maps as <method>.f32 (224×224 float32 LE)')
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    device = torch.device('cpu')
    GradCAM, ScoreCAM, FusionCAM, ref = load_reference(a.reference_dir)
    model = load_mobilenet_v1(a.model_dir)
    layer = getattr(model.features, a.layer)
    if a.input_f32:
        x = np.fromfile(a.input_f32, '<f4').reshape(224, 224, 3)
        x = torch.from_numpy(x.transpose(2, 0, 1).copy()).unsqueeze(0)
    else:
        x = load_image(a.image)

    gc, sc, fc = GradCAM(model, device), ScoreCAM(model, device), FusionCAM(model, device)
    shape = []
    h = layer.register_forward_hook(lambda m, i, o: shape.extend(o.shape[1:]))
    with torch.no_grad():
        logits = model(x)[0]
    h.remove()
    top1 = int(logits.argmax())
    out = {
        'date': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
        'machine': {'cpu': cpu_name(), 'cores': os.cpu_count(), 'python': platform.python_version(), 'platform': platform.platform()},
        'torch': torch.__version__, 'numpy': np.__version__, 'threads': torch.get_num_threads(),
        'blas': blas_library(), 'OPENBLAS_NUM_THREADS': os.environ.get('OPENBLAS_NUM_THREADS'),
        'reference': ref,
        'model': os.path.abspath(a.model_dir), 'layer': a.layer, 'layer_shape_chw': [int(v) for v in shape],
        'image': os.path.abspath(a.image), 'input': os.path.abspath(a.input_f32) if a.input_f32 else 'pil',
        'class': top1, 'logit': float(logits[top1]), 'theta': a.theta, 'tau': 1,
        'times': {},
    }

    jobs = {
        # Their full Fusion-CAM: Grad-CAM (1 fwd+bwd) + Score-CAM (2 fwd + K fwd, one channel at a
        # time) + 5 forwards of the fusion steps.
        'fusioncam': lambda: fc.generate_cam(x, layer, None, theta=a.theta),
        'scorecam': lambda: sc.generate_cam(x, layer, None),
        'gradcam': lambda: gc.generate_cam(x, layer, None),
    }
    for what in [w for w in a.what.split(',') if w]:
        if what == 'forward':  # one batch-1 forward, to split Score-CAM into model time and the rest
            def fwd():
                with torch.no_grad():
                    model(x)
            out['times']['forward_batch1'] = timed(fwd, 20, 3)
        else:
            out['times'][what] = timed(jobs[what], a.runs, a.warmup)

    if a.compare_with or a.save_maps:
        theirs = {m: jobs[m]()[0] for m in ('gradcam', 'scorecam', 'fusioncam')}
        if a.save_maps:
            os.makedirs(a.save_maps, exist_ok=True)
            for m, v in theirs.items():
                v.astype('<f4').tofile(os.path.join(a.save_maps, f'{m}.f32'))
    if a.compare_with:
        ours = json.load(open(a.compare_with))
        base = os.path.dirname(os.path.abspath(a.compare_with))
        cmp = {'ours_class': ours['class']['index'], 'same_class': ours['class']['index'] == top1,
               'logits_top5': [{'index': t['index'], 'ours': t['logit'], 'theirs': float(logits[t['index']]),
                                'abs_diff': abs(t['logit'] - float(logits[t['index']]))} for t in ours['top5']]}
        cmp['logits_top5_max_abs_diff'] = max(t['abs_diff'] for t in cmp['logits_top5'])
        stem_input = os.path.join(base, os.path.basename(ours['mapFiles']['gradcam']['f32']).split('.')[0] + '.input.f32')
        if os.path.exists(stem_input):
            ours_x = np.fromfile(stem_input, '<f4').reshape(224, 224, 3)
            cmp['input_vs_ours'] = diff(ours_x, x[0].numpy().transpose(1, 2, 0))
        for m in ('gradcam', 'scorecam', 'fusioncam'):
            if m in ours['mapFiles']:
                o = np.fromfile(os.path.join(base, ours['mapFiles'][m]['f32']), '<f4').reshape(ours['mapFiles'][m]['shape'])
                cmp[m] = diff(o, theirs[m])
        out['compare'] = cmp

    print(json.dumps(out, indent=2))


if __name__ == '__main__':
    main()
