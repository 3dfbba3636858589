"""What tests/test_distributed.py starts under torchrun (and as one process, to compare): `python torchrun_entry.py KIND ARGS`.

KIND `harvest` or `parse`: the command with ARGS, after the tests' set-up (the offline hub, the tiny CLIP registered).
KIND `fit`: a tiny VALOR run on a tiny synthetic LLP, dropout off; rank 0 writes each epoch's losses and scores to ARGS[0].
"""
import json
import sys
from dataclasses import replace
from pathlib import Path


def fit(out):
    from valor_nb.dist import job_shard, start_group, world
    from valor_nb.synth import SynthConfig, synth_llp
    from valor_nb.train import RECIPES, train_model
    start_group(job_shard())
    s = synth_llp(SynthConfig(n_train=96, n_val=48, n_test=16))
    recipe = replace(RECIPES['valor'].shortened(3), batch_size=21, lr_max=1e-3)   # 96 = 4 x 21 + 12: unequal slices
    r = train_model('valor', s['train'], s['val'], None, 'valor', recipe, quiet=True,
                    han_overrides=dict(hidden=32, ff=64, heads=2, dropout=0.0))
    if world()[0] == 0:
        Path(out).write_text(json.dumps([{'loss': h['loss'], 'parts': h['parts'], 'val': h['val']} for h in r.history]))


if __name__ == '__main__':
    kind, args = sys.argv[1], sys.argv[2:]
    if kind == 'fit': fit(*args)
    else:
        from valor_nb.teachers import build_offline_hub
        from valor_nb.testing import register_tiny_clip
        build_offline_hub(); register_tiny_clip(); register_tiny_clip('valor-tiny-clip-768', 768)   # 768: VALOR++'s input
        from valor_nb import harvesting, parse
        {'harvest': harvesting.main, 'parse': parse.main}[kind](args)
