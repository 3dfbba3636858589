"""Benchmark: members trained together (one batched model, `valor_nb.members`) vs the same runs one by one (`train_model`).

The runs of one report row: `--members` seeds of a preset with the VALOR loss on random LLP-shaped data of
`--videos` training videos (the synthetic default's size) and 300 validation videos, `--epochs` epochs each.
Prints the videos per second of each way (training and per-epoch validation together), the speed-up, and how far
each member lands from its separate run: per-epoch loss difference and weight distance relative to training's change.
Run: python bench/members.py [--preset valor] [--members 3] [--videos 1000] [--epochs 2] [--device cpu]
"""
import argparse, time
from dataclasses import replace

from common import machine
from valor_nb.data import random_split
from valor_nb.members import train_members, weight_drift
from valor_nb.train import Recipe, seeded_han, train_model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='valor'); ap.add_argument('--members', type=int, default=3)
    ap.add_argument('--videos', type=int, default=1000); ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--device', default='cpu')
    a = ap.parse_args()
    print(machine())
    kinds = ('vggish', 'res152', 'r2plus1d_18') if a.preset != 'valor++' else ('clap', 'clip', 'r2plus1d_18')
    tr, va = random_split(a.videos, kinds, seed=1), random_split(300, kinds, seed=2)
    recipe = Recipe(epochs=a.epochs, warmup=1)
    runs = [(tr, 'valor', replace(recipe, seed=s)) for s in range(a.members)]
    t0 = time.perf_counter()
    alone = [train_model(a.preset, t, va, None, l, r, device=a.device, quiet=True) for t, l, r in runs]
    t_alone = time.perf_counter() - t0
    t0 = time.perf_counter()
    together = train_members(a.preset, runs, va, device=a.device)
    t_together = time.perf_counter() - t0
    videos = a.members * a.epochs * a.videos
    print(f"{a.members} x preset {a.preset}, {a.epochs} epochs of {a.videos} videos (+ validation on 300 after each) on {a.device}")
    print(f"one by one:  {t_alone:6.1f} s  {videos / t_alone:6.1f} training videos/s")
    print(f"together:    {t_together:6.1f} s  {videos / t_together:6.1f} training videos/s   speed-up {t_alone / t_together:.2f}x")
    for s, (x, y, (_, _, r)) in enumerate(zip(together, alone, runs)):
        dl = max(abs(h['loss'] - g['loss']) for h, g in zip(x.history, y.history))
        d = weight_drift(x.model.cpu(), y.model.cpu(), seeded_han(a.preset, r, 25))
        print(f"member {s}: max |loss difference| per epoch {dl:.1e}; best epoch {x.best_epoch} vs {y.best_epoch}; "
              f"val Type@AV {x.val['seg_type']:.2f} vs {y.val['seg_type']:.2f}; weight distance / training's change {d:.1e}")


if __name__ == '__main__':
    main()
