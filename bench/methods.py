"""Benchmark: each method of Table 1, trained alone on the synthetic LLP, its seconds per epoch beside VALOR's.

Every method of `valor_nb.methods.METHODS` at the synthetic budget of `methods.ipynb` (the same learning rates, each its
own batch size and schedule), for `--epochs` epochs per training stage, nothing cached, one after the other on an
otherwise idle machine: the final training's seconds per epoch (its training steps and the validation pass after each
epoch, as `fit` times them), the same relative to VALOR's, and the whole method's wall time (a method with stages
trains a first model and makes its labels too).
Run: python bench/methods.py [--epochs 2]
"""
import argparse, time

from common import machine

from valor_nb.methods import METHODS, method_recipe, run_method  # noqa: E402
from valor_nb.synth import SynthConfig, synth_llp  # noqa: E402

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=2)
    args = ap.parse_args()
    print(machine())
    s = synth_llp(SynthConfig())
    print(f"synthetic LLP, {len(s['train']):,} training videos, {args.epochs} epochs per training stage")
    rows = {}
    for name, m in METHODS.items():
        t0 = time.perf_counter()
        r = run_method(m, s['train'], s['val'], method_recipe(m, synthetic=True, epochs=args.epochs), cache_dir=None)
        rows[name] = (sum(h['seconds'] for h in r.history) / len(r.history), time.perf_counter() - t0, m.recipe.batch_size)
    valor = rows['valor'][0]
    print(f"{'method':<8}{'batch':>7}{'s/epoch':>10}{'x VALOR':>9}{'whole method, s':>17}")
    for name, (per_epoch, wall, batch) in rows.items():
        print(f"{name:<8}{batch:>7}{per_epoch:>10.2f}{per_epoch / valor:>9.2f}{wall:>17.1f}")
