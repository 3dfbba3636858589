"""What bf16 autocast does to the teachers: throughput, and logits and labels against float32, on the real LLP clip and
on generated clips.

Weights are random (seeded) unless --clip-weights / --clap-weights are given; with random weights, flips at Table 5's
thresholds are rare by construction, so the script also counts flips at a stand-in threshold per class (the median
float32 logit: the densest place a threshold can be). On a GPU add --device cuda (and --precision fp16 to try fp16).

    python bench/precision.py [VIDEO] [--device cuda] [--precision bf16] [--clip-weights FILE] [--clap-weights FILE]
"""
import argparse, os, tempfile, time
from pathlib import Path

import numpy as np
import torch

from common import machine  # bench/common.py: first, it sets up the offline stand-in hub

from valor_nb.prompts import LLP_PROMPTS  # noqa: E402
from valor_nb.teachers import ClapTeacher, ClipTeacher, build_offline_hub  # noqa: E402
from valor_nb.testing import make_clip  # noqa: E402
from valor_nb.video import audio_segments, load_clip  # noqa: E402


def compare(name, low, full, theta):
    median = np.median(full, axis=0)
    flips = lambda t: int(((low > t) != (full > t)).sum())
    print(f"  {name:<6} mean |Δ logit| {np.abs(low - full).mean():.4f}  max {np.abs(low - full).max():.4f}  "
          f"label flips at Table 5 θ {flips(theta)}/{full.size}  at median θ {flips(median)}/{full.size}")


def timed(fn):
    if torch.cuda.is_available(): torch.cuda.synchronize()
    t0 = time.perf_counter(); out = fn()
    if torch.cuda.is_available(): torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def main():
    p = argparse.ArgumentParser()
    p.add_argument('video', nargs='?', default=str(Path(os.environ.get('VALOR_LLP_DIR', '.'))/'video'/'BjCEufrlXm4.mp4'))
    p.add_argument('--device', default='cpu'); p.add_argument('--precision', default='bf16', choices=['bf16', 'fp16'])
    p.add_argument('--clip-model', default='ViT-L-14'); p.add_argument('--clip-weights'); p.add_argument('--clap-weights')
    p.add_argument('--generated', type=int, default=3, help='generated clips beside the real one')
    a = p.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as d:
        paths = ([a.video] if Path(a.video).is_file() else []) + [make_clip(Path(d)/f'g{i}.mp4', size=224, fps=25 + 5 * i) for i in range(a.generated)]
        clips = [load_clip(p) for p in paths]
    print(f"{len(clips)} clips ({'the real LLP clip and ' if Path(a.video).is_file() else ''}{a.generated} generated); "
          f"{a.precision} vs fp32 on {a.device}")
    frames, segments = [c.segment_frames for c in clips], [audio_segments(c.wave) for c in clips]   # clips differ in length
    build_offline_hub()
    for name, make, run, theta in (
            ('CLIP', lambda prec: ClipTeacher(LLP_PROMPTS, a.clip_model, a.clip_weights, a.clip_weights is None, a.device, precision=prec),
             lambda t: t(frames)[1], LLP_PROMPTS.theta_clip),
            ('CLAP', lambda prec: ClapTeacher(LLP_PROMPTS, a.clap_weights, a.clap_weights is None, device=a.device, precision=prec),
             lambda t: np.concatenate([t(x)[1] for x in segments]), LLP_PROMPTS.theta_clap)):
        torch.manual_seed(0); full = make('fp32')
        if name == 'CLIP' and a.clip_weights is None: full.scale = 100.0     # the OpenAI weights' logit scale
        torch.manual_seed(0); low = make(a.precision)
        low.scale = full.scale
        run(full); run(low)                                                  # warm-up
        (t_full, z_full), (t_low, z_low) = timed(lambda: run(full)), timed(lambda: run(low))
        n = len(clips) * 10
        print(f"{name}: fp32 {n / t_full:.1f} {'frames' if name == 'CLIP' else 'segments'}/s, {a.precision} {n / t_low:.1f} ({t_full / t_low:.2f}x)")
        compare(name, z_low, z_full, theta)


if __name__ == '__main__': main()
