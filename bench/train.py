"""Benchmark: training and validation throughput of the standard HAN (preset 'valor') on CPU.

Random LLP-shaped videos: VGGish (10, 128), ResNet-152 (80, 2048), R(2+1)D (10, 512). Training: batches of 64 through
valor_nb.train.train_step (the VALOR loss) after the once-per-split input averaging; validation: 649 videos through
valor_nb.infer.evaluate (model + the ten AVVP numbers). Each is checked against the straightforward computation:
training gradients against the plain forward pass on raw features; validation against batch-1 forward passes on raw
features scored by the per-video metric loop (valor_nb.testing.reference_scores).
Run: python bench/train.py [--train-videos 1280] [--threads N]
"""
import argparse, time

import torch

from valor_nb.data import random_split  # noqa: E402
from valor_nb.han import build_han  # noqa: E402
from valor_nb.losses import LOSS_PRESETS, Targets  # noqa: E402
from valor_nb.testing import reference_forward, reference_scores  # noqa: E402
from valor_nb.metrics import predictions  # noqa: E402
from valor_nb.infer import evaluate, model_inputs  # noqa: E402
from valor_nb.train import RECIPES, make_optimizer, split_targets, train_step  # noqa: E402


def train_throughput(model, split, bf16, batch=64, warmup=2):
    "Videos per second of fit's inner loop (shuffled index slices + train_step) after `warmup` batches; one-off averaging time."
    t0 = time.perf_counter(); x = model_inputs(model, split); t_prep = time.perf_counter() - t0
    y = split_targets(split, LOSS_PRESETS['valor'])
    opt = make_optimizer(model, RECIPES['valor'])
    n, done, t_train = len(split), 0, 0.0
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    for b, i in enumerate(range(0, n, batch)):
        t0 = time.perf_counter()
        idx = perm[i:i + batch]
        train_step(model, opt, tuple(t[idx] for t in x), Targets(*(None if t is None else t[idx] for t in y)),
                   LOSS_PRESETS['valor'], 1.0, bf16)
        if b >= warmup: t_train += time.perf_counter() - t0; done += len(idx)
    return done / t_train, t_prep


def max_grad_difference(model, split, n=16):
    "Largest |gradient difference| between the straightforward forward on raw features and the trainer's averaged inputs."
    x = tuple(split.features[k][:n] for k in model.input_kinds)
    def grads(out):
        model.zero_grad(); out.video_prob.sum().backward()
        return [p.grad.clone() for p in model.parameters() if p.grad is not None]
    model.eval()
    return max((a - b).abs().max().item() for a, b in zip(grads(reference_forward(model, *x)), grads(model.forward_segments(*model.segment_inputs(*x)))))


def straightforward_validation(model, split):
    "Batch-1 forward passes on raw features, then the per-video metric loop."
    model.eval()
    with torch.no_grad():
        outs = [reference_forward(model, *(split.features[k][i:i + 1] for k in model.input_kinds)) for i in range(len(split))]
    vp = torch.cat([o.video_prob for o in outs]); fp = torch.cat([o.segment_prob for o in outs])
    pa, pv = predictions(vp, fp[:, :, 0], fp[:, :, 1])
    return reference_scores(pa, pv, split.gt_a, split.gt_v)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--train-videos', type=int, default=1280)
    ap.add_argument('--threads', type=int, default=None)
    args = ap.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    torch.manual_seed(1000)
    train, val = random_split(args.train_videos, seed=1), random_split(649, seed=2)
    model = build_han('valor')
    print(f"standard HAN (valor preset), CPU, {torch.get_num_threads()} threads, batch 64")
    for bf16 in (False, True):
        m = build_han('valor'); m.load_state_dict(model.state_dict())
        vps, prep = train_throughput(m, train, bf16)
        print(f"training {'bf16' if bf16 else 'fp32'}: {vps:7.1f} videos/s  (one LLP epoch of 10,000 videos: {10000 / vps:5.1f} s; "
              f"once-per-split input averaging of {len(train)} videos: {prep:.2f} s)")
    print(f"training gradients vs straightforward forward (project every frame, then average): max |difference| {max_grad_difference(model, train):.2e}")
    model.eval()
    evaluate(model, val)   # warm-up (metric tables, allocator)
    t0 = time.perf_counter(); ours = evaluate(model, val); t_ours = time.perf_counter() - t0
    t0 = time.perf_counter(); bf = evaluate(model, val, bf16=True); t_bf = time.perf_counter() - t0
    t0 = time.perf_counter(); ref = straightforward_validation(model, val); t_ref = time.perf_counter() - t0
    diff = max(abs(ours[k] - ref[k]) for k in ours)
    print(f"validation of 649 videos, fp32: {t_ours:.3f} s   (bf16: {t_bf:.3f} s; its Type@AV differs by {abs(bf['seg_type'] - ours['seg_type']):.3f})")
    print(f"straightforward validation (batch 1, raw features, per-video metric loop): {t_ref:.2f} s")
    print(f"validation ratio: {t_ref / t_ours:.1f}x; largest difference in the ten numbers: {diff:.2e}")
