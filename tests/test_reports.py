"Every report notebook, executed end to end by papermill with CI-sized parameters; the files it writes are checked."
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

NBS = Path(__file__).resolve().parents[1]/'nbs'
pytestmark = pytest.mark.slow   # papermill runs: minutes


def run_notebook(name, tmp_path, **params):
    args = [sys.executable, '-m', 'papermill', str(NBS/name), str(tmp_path/f'out_{name}'), '-k', 'python3', '--cwd', str(tmp_path)]
    for k, v in params.items(): args += ['-y', f'{k}: {v}'] if isinstance(v, list) else ['-p', k, str(v)]
    env = {**os.environ, 'MPLBACKEND': 'Agg'}
    res = subprocess.run(args, capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    return tmp_path/'figs'


@pytest.mark.parametrize('name, table, rows, metrics', [
    ('ablation.ipynb', 'table3', 8, 5),
    ('labelers.ipynb', 'table2', 4, 10),
    ('fidelity.ipynb', 'table7', 2, 3),
    ('pld.ipynb', 'table8', 2, 4),
    ('benchmark.ipynb', 'table1', 4, 10),
    ('methods.ipynb', 'table1_methods', 7, 10),
    ('methods.ipynb', 'table1_methods_class_thresholds', 7, 10),
])
def test_report_notebook_runs_and_writes_its_table(tmp_path, name, table, rows, metrics):
    seeds = {} if name == 'fidelity.ipynb' else {'seeds': [0, 1]}
    figs = run_notebook(name, tmp_path, quick=True, out_dir=tmp_path/'figs', **seeds)
    t = pd.read_csv(figs/f'{table}_synthetic.csv')
    assert len(t) == rows * metrics and t['row'].nunique() == rows
    assert t['source'].str.startswith('synthetic LLP').all() and t['paper'].notna().all()
    md = (figs/f'{table}_synthetic.md').read_text()
    assert 'synthetic LLP' in md and 'Paper: real LLP, as published.' in md
    if seeds:   # every run kept, seed by seed, for the difference charts and the claims ledger
        runs = pd.read_csv(figs/f'{table}_runs_synthetic.csv')
        assert len(runs) == 2 * rows * metrics and sorted(runs['seed'].unique()) == [0, 1] and '2 seed(s)' in md
    assert (figs/f'{table}_synthetic.png').read_bytes()[:4] == b'\x89PNG'


def test_fidelity_on_real_annotations_reproduces_table7_row1(tmp_path, llp_dir):
    figs = run_notebook('fidelity.ipynb', tmp_path, llp_dir=llp_dir.resolve(), out_dir=tmp_path/'figs')
    t = pd.read_csv(figs/'table7_llp.csv', keep_default_na=False, na_values=['']).set_index('row')
    row1, row2 = t.loc['video labels as segment labels'], t.loc['VALOR-generated segment labels']
    assert row1['ours'].tolist() == [79.33, 69.30, 60.69] and row1['difference'].abs().max() == 0
    assert row2['ours'].isna().all() and row2['note'].str.startswith('not run: needs harvested labels of the test split').all()


def test_thresholds_notebook_writes_table5(tmp_path):
    figs = run_notebook('thresholds.ipynb', tmp_path, quick=True, out_dir=tmp_path/'figs')
    t = pd.read_csv(figs/'table5_synthetic.csv')
    assert len(t) == 25 and list(t['θ CLIP (Table 5)'][:3]) == [20, 15, 18] and t['F CLAP'].notna().any()
    assert 'synthetic LLP' in (figs/'table5_synthetic.md').read_text()
    assert (figs/'table5_synthetic.png').read_bytes()[:4] == b'\x89PNG'


def test_classwise_notebook_writes_figures_3_and_4(tmp_path):
    figs = run_notebook('classwise.ipynb', tmp_path, quick=True, out_dir=tmp_path/'figs', seeds=[0, 1])
    t = pd.read_csv(figs/'figures34_synthetic.csv')
    assert len(t) == 50 and set(t['modality']) == {'audio', 'visual'} and t['source'].str.startswith('synthetic LLP').all()
    assert (t['seeds'] == 2).all() and len(pd.read_csv(figs/'figures34_runs_synthetic.csv')) == 2 * 2 * 2 * 25
    for n in (3, 4): assert (figs/f'figure{n}_synthetic.png').read_bytes()[:4] == b'\x89PNG'


def test_benchmark_notebook_evaluates_official_checkpoints(tmp_path):
    "With checkpoint_dir, a checkpoint saved under the official names is loaded and scored instead of training."
    import torch
    from valor_nb.han import build_han, to_official_state_dict
    (tmp_path/'ckpt'/'valor').mkdir(parents=True)
    torch.save(to_official_state_dict(build_han('valor')), tmp_path/'ckpt'/'valor'/'checkpoint_best.pt')
    figs = run_notebook('benchmark.ipynb', tmp_path, quick=True, checkpoint_dir=tmp_path/'ckpt', out_dir=tmp_path/'figs', seeds=[0])
    t = pd.read_csv(figs/'table1_synthetic.csv').set_index(['row', 'metric'])
    assert list(t.index.levels[0]) == ['HAN', 'VALOR', 'VALOR+', 'VALOR++'] and t.loc[('VALOR', 'seg_type'), 'paper'] == 62.0
    assert 'HAN, VALOR+, VALOR++: trained here; VALOR: released checkpoint' in (figs/'table1_synthetic.md').read_text()


def test_qualitative_notebook_draws_figure_5(tmp_path):
    figs = run_notebook('qualitative.ipynb', tmp_path, quick=True, n_videos=1, out_dir=tmp_path/'figs')
    assert (figs/'figure5_synthetic.png').read_bytes()[:4] == b'\x89PNG'


def test_ave_notebook_writes_table4(tmp_path):
    figs = run_notebook('ave.ipynb', tmp_path, quick=True, out_dir=tmp_path/'figs', seeds=[0, 1])
    t = pd.read_csv(figs/'table4_synthetic.csv')
    assert t['row'].tolist() == ["the clip's event in every segment (no model)", 'HAN', 'VALOR, one θ = 0 for both teachers', 'VALOR']
    assert t['paper'].tolist()[1::2] == [75.3, 80.4] and t['paper'].isna().tolist() == [True, False, True, False]   # ours only
    assert 'Paper: real AVE, as published.' in (figs/'table4_synthetic.md').read_text()


def test_parse_notebook_parses_its_demo_clip(tmp_path):
    run_notebook('parse.ipynb', tmp_path, quick=True, seconds=4, out_dir=tmp_path/'parsed', figures_dir=tmp_path/'figs')
    doc = json.loads((tmp_path/'parsed'/'demo_4s.json').read_text())
    assert (doc['segments'], doc['looped'], doc['model']['random_weights'], doc['features']['clap']) == (4, True, True, 'random')
    assert (tmp_path/'parsed'/'demo_4s_audio.csv').read_text().startswith('filename\tonset\toffset\tevent_labels\n')
    assert (tmp_path/'figs'/'parse_demo_4s.png').read_bytes() == (tmp_path/'parsed'/'demo_4s.png').read_bytes()   # not the committed demo


def test_a_run_with_other_settings_never_writes_the_committed_figures(tmp_path):
    "Without out_dir, a quick run writes under runs/quick/figures/, says so in its titles, and leaves figures/ alone."
    run_notebook('fidelity.ipynb', tmp_path, quick=True)
    assert not (tmp_path/'figures').exists()
    md = (tmp_path/'runs'/'quick'/'figures'/'table7_synthetic.md').read_text()
    assert '[quick: CI-sized data and models run]' in md.splitlines()[0]
