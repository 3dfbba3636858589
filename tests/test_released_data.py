"The released data alone: valor_check_data and the reports agree on what each row needs, and every report runs on such a folder."
import shutil
from dataclasses import replace

import pandas as pd
import pytest

from valor_nb.fetch import check_data
from valor_nb.paper import TABLES
from valor_nb.report import QUICK_SYNTH, report_data, row_status
from valor_nb.reproduce import OFFICIAL_PARAMS
from valor_nb.synth import synth_llp
from valor_nb.testing import write_official

KINDS = ('vggish', 'res152', 'r2plus1d_18', 'clip', 'clap')
PIECES = {'vggish': ['feats/vggish'], 'res152': ['feats/res152'], 'r2plus1d_18': ['feats/r2plus1d_18'], 'clip': ['CLIP/features'],
          'clap': ['CLAP/features'], 'labels': ['CLIP/segment_pseudo_labels', 'CLAP/segment_pseudo_labels'],
          'teachers': ['teacher_a', 'teacher_v']}


@pytest.fixture(scope='module')
def everything(tmp_path_factory):
    "A small official-layout folder from the synthetic LLP with every piece: features, labels, teacher logits, checkpoints."
    splits = synth_llp(replace(QUICK_SYNTH, n_train=24, n_val=12, n_test=12, kinds=KINDS))
    return write_official(tmp_path_factory.mktemp('released')/'all', splits, logits=True, checkpoints=True)


def reports_see(dest):
    "What the reports make of the folder: the pieces report_data loads, and per table which rows run."
    p = OFFICIAL_PARAMS
    data = report_data(dest/'data', {k: p[k] for k in KINDS}, {'a': p['labels_a'], 'v': p['labels_v']},
                       {'a': 'teacher_a', 'v': 'teacher_v'})
    return data.have, {t.name: {r.key: row_status(data, r) is None for r in t.rows} for t in TABLES.values() if t.name != 'table4'}


@pytest.mark.parametrize('piece', [None, *PIECES, 'one label file'])
def test_check_data_and_the_reports_agree(everything, tmp_path, piece):
    "A folder missing each piece in turn: valor_check_data's verdict per row equals what the reports run."
    dest = shutil.copytree(everything, tmp_path/'dest')
    shutil.rmtree(dest/'models')                                   # released checkpoints aside: a row that trains
    for folder in PIECES.get(piece, []): shutil.rmtree(dest/'data'/folder)
    if piece == 'one label file': next((dest/'data'/'CLAP/segment_pseudo_labels').glob('synva*.npy')).unlink()
    check = check_data(dest)
    have, runs = reports_see(dest)
    assert check['have'] == have
    assert {t: {k: not v.startswith('not run') for k, v in rows.items()} for t, rows in check['tables'].items()} == runs
    if piece == 'teachers': assert not runs['table3']['A KD, V KD'] and runs['table3']['A base, V base']
    if piece == 'one label file': assert 'val labels' not in have and 'labels' in have and not runs['table8']['VALOR labels']


@pytest.mark.slow   # every report notebook through papermill, twice (about 4 minutes)
@pytest.mark.parametrize('complete', [False, True], ids=['released data alone', 'with logits and checkpoints'])
def test_every_report_runs_on_the_released_data(everything, tmp_path, monkeypatch, complete):
    "valor_reproduce --params official --quick on the released data alone exits 0, its missing rows marked; with all, all run."
    from pathlib import Path
    from valor_nb.reproduce import main
    dest = everything
    if not complete:
        dest = shutil.copytree(everything, tmp_path/'released')
        for folder in ('models', 'data/teacher_a', 'data/teacher_v'): shutil.rmtree(dest/folder)
    monkeypatch.chdir(tmp_path)
    main(['--params', 'official', '--root', str(dest), '--quick', '--nbs', str(Path(__file__).resolve().parents[1]/'nbs')])
    figs = tmp_path/'runs'/'llp-quick'/'figures'
    read = lambda name: pd.read_csv(figs/name, keep_default_na=False, na_values=[''])
    kd = read('table3_llp.csv').set_index('row').loc['A KD, V KD']
    assert kd['ours'].isna().all() != complete and kd['note'].fillna('').str.startswith('not run: needs teacher logits').all() != complete
    assert ('released checkpoint' in (figs/'table1_llp.md').read_text()) == complete
    assert read('table1_llp.csv')['ours'].notna().all()                    # without checkpoints the rows are trained
    assert (read('table5_llp.csv')['θ CLIP (found)'].notna().any()) == complete
    ledger = read('claims_llp.csv').set_index('comparison')['verdict']
    kd = ledger[ledger.index.str.contains('KD')]
    assert len(kd) == 3 and kd.str.startswith('not run: A KD, V KD: needs teacher logits').all() != complete
    assert ledger['VALOR − HAN, AVE segment accuracy'].startswith('not run: needs the AVE dataset')
