"""valor_fetch and valor_check_data offline: a fake Hugging Face cache in the hub's own layout holds small zips and
checkpoints under the published names; the annotations come from file:// URLs. The fetched folder is then read by the
benchmark notebook as the README says (-p checkpoint_dir DEST/models)."""
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import valor_nb.fetch as fetch
from valor_nb.data import random_split, write_llp
from valor_nb.fetch import ASSETS, check_data, check_main, main
from valor_nb.paper import not_run
from valor_nb.han import build_han, to_official_state_dict

REV = 'a' * 40


def put(cache, asset, name, data:bytes):
    "A file of `asset` in a Hugging Face cache, in the hub's layout (refs/main -> snapshots/<rev>/<name>)."
    repo = cache/f"{asset.repo_type}s--{asset.repo.replace('/', '--')}"
    (repo/'refs').mkdir(parents=True, exist_ok=True); (repo/'refs'/'main').write_text(REV)
    (repo/'snapshots'/REV/name).parent.mkdir(parents=True, exist_ok=True)
    (repo/'snapshots'/REV/name).write_bytes(data)


def npy(x):
    import io
    f = io.BytesIO(); np.save(f, x); return f.getvalue()


def feature_zip(kind, names, shape):
    import io
    f = io.BytesIO()
    with zipfile.ZipFile(f, 'w') as z:
        for n in names:
            z.writestr(f'{kind}/features/{n[:11]}.npy', npy(np.random.default_rng(0).standard_normal(shape).astype(np.float32)))
            z.writestr(f'{kind}/segment_pseudo_labels/{n[:11]}.npy', npy(np.zeros((10, 25), np.float32)))
    return f.getvalue()


@pytest.fixture(scope='module')
def hub(tmp_path_factory):
    "A fake hub cache, the LLP folder whose videos it covers (test split only: a small official layout), annotation URLs."
    root = tmp_path_factory.mktemp('fake')
    splits = {'train': random_split(6, seed=1), 'val': random_split(4, seed=2), 'test': random_split(8, seed=3)}
    llp = write_llp(root/'llp', splits)
    names = [n for s in splits.values() for n in s.names]
    cache = root/'cache'
    put(cache, ASSETS['clip-features'], 'CLIP.zip', feature_zip('CLIP', names, (10, 768)))
    put(cache, ASSETS['clap-features'], 'CLAP.zip', feature_zip('CLAP', names, (64, 768)))
    torch.manual_seed(0)
    for preset, name in zip(('valor', 'valor+', 'valor++'), ASSETS['checkpoints'].files):
        f = root/'ckpt.pt'; torch.save(to_official_state_dict(build_han(preset)), f)
        put(cache, ASSETS['checkpoints'], name, f.read_bytes())
    put(cache, ASSETS['clap-weights'], '630k-fusion-best.pt', b'clap weights')
    put(cache, ASSETS['clip-weights'], 'open_clip_pytorch_model.bin', b'clip weights')
    return cache, llp, splits


def fetch_cli(cli, dest, cache, *extra):
    return cli(main, dest, '--cache-dir', cache, *extra)


def test_fetch_fills_the_official_layout_and_is_idempotent(hub, tmp_path, cli):
    cache, llp, _ = hub
    items = ('clip-features', 'clap-features', 'checkpoints', 'clap-weights', 'clip-weights')
    assert fetch_cli(cli, tmp_path, cache, '--only', *items) == (0, '')
    assert sorted(p.name for p in (tmp_path/'data'/'CLIP'/'features').iterdir())[:1] == ['r0010000000.npy']
    for m in ('VALOR', 'VALOR+', 'VALOR++'): assert (tmp_path/'models'/f'model_{m}'/'checkpoint_best.pt').is_file()
    assert (tmp_path/'weights'/'630k-fusion-best.pt').read_bytes() == b'clap weights'
    assert (tmp_path/'weights'/'ViT-L-14-openai.bin').read_bytes() == b'clip weights'
    manifest = json.loads((tmp_path/'valor_fetch.json').read_text())
    entry = manifest['clip-features']['CLIP.zip']
    assert entry['source'] == 'hf://datasets/NTUBarista/valor_features/CLIP.zip' and entry['revision'] == REV
    assert entry['sha256'] == hashlib.sha256((cache/'datasets--NTUBarista--valor_features'/'snapshots'/REV/'CLIP.zip').read_bytes()).hexdigest()
    mtime = (tmp_path/'data'/'CLIP'/'features').stat().st_mtime_ns
    assert fetch_cli(cli, tmp_path, cache, '--only', *items) == (0, '')                       # idempotent: nothing redone
    assert (tmp_path/'data'/'CLIP'/'features').stat().st_mtime_ns == mtime
    assert json.loads((tmp_path/'valor_fetch.json').read_text()) == manifest
    assert not list(tmp_path.rglob('*.tmp'))


def test_fetch_resumes_after_an_interruption(hub, tmp_path, cli, monkeypatch):
    cache, _, _ = hub
    real = fetch.os.replace
    def crash(src, dst):
        if Path(dst).name == 'CLIP': raise KeyboardInterrupt
        return real(src, dst)
    monkeypatch.setattr(fetch.os, 'replace', crash)
    code, err = fetch_cli(cli, tmp_path, cache, '--only', 'checkpoints', 'clip-features')
    assert code == 130 and not (tmp_path/'data'/'CLIP').exists()                            # no half-unzipped folder
    assert list(json.loads((tmp_path/'valor_fetch.json').read_text())) == ['checkpoints']
    monkeypatch.setattr(fetch.os, 'replace', real)
    assert fetch_cli(cli, tmp_path, cache, '--only', 'checkpoints', 'clip-features') == (0, '')
    assert len(list((tmp_path/'data'/'CLIP'/'features').iterdir())) == 18


def test_fetch_refuses_a_corrupt_zip_and_says_what_is_missing_offline(hub, tmp_path, cli):
    cache, _, _ = hub
    bad = tmp_path/'badcache'
    shutil.copytree(cache, bad)
    zpath = bad/'datasets--NTUBarista--valor_features'/'snapshots'/REV/'CLAP.zip'
    data = bytearray(zpath.read_bytes()); data[200] ^= 0xFF; zpath.write_bytes(bytes(data))
    code, err = fetch_cli(cli, tmp_path/'dest', bad, '--only', 'clap-features')
    assert code == 1 and 'CLAP.zip: corrupt zip' in err and not (tmp_path/'dest'/'data'/'CLAP').exists()
    code, err = fetch_cli(cli, tmp_path/'dest', tmp_path/'empty_cache', '--only', 'clap-weights')
    assert code == 1 and 'hf://models/lukewys/laion_clap/630k-fusion-best.pt could not be downloaded and is not in the Hugging Face cache' in err


def test_dry_run_lists_sources_sizes_and_the_manual_step(hub, tmp_path, capsys):
    cache, _, _ = hub
    main([str(tmp_path), '--cache-dir', str(cache), '--dry-run'])
    out = capsys.readouterr().out
    assert 'hf://models/NTUBarista/valor_trained_models/model_VALOR++/checkpoint_best.pt (' in out
    assert 'hf://models/lukewys/laion_clap/630k-fusion-best.pt (12.0 B)' in out and 'by hand: VGGish, ResNet-152' in out
    assert not list(tmp_path.iterdir())


def test_annotations_are_checked_and_the_2020_file_rebuilt(llp_dir, tmp_path):
    "From (file://) copies of the six CSV files: all checked by MD5, and the 2020 audio file rebuilt byte for byte."
    out = fetch.fetch_annotations(tmp_path, url=llp_dir.as_uri() + '/{}')
    assert (tmp_path/'data'/'AVVP_eval_audio_original2020.csv').read_bytes() == (llp_dir/'AVVP_eval_audio_original2020.csv').read_bytes()
    assert len(out) == 7
    (tmp_path/'other').mkdir(); shutil.copy(llp_dir/'AVVP_train.csv', tmp_path/'other')
    for f in fetch.ANNOTATION_MD5: (tmp_path/'other'/f).write_bytes((llp_dir/f).read_bytes())
    (tmp_path/'other'/'AVVP_val_pd.csv').write_text('filename\tevent_labels\n')
    with pytest.raises(ValueError, match='AVVP_val_pd.csv: not the file the paper'):
        fetch.fetch_annotations(tmp_path/'x', url=(tmp_path/'other').as_uri() + '/{}')


def official_folder(hub, dest, cli):
    "A complete small official layout: the fake hub's files, the annotations and the (by hand) standard features."
    cache, llp, splits = hub
    assert fetch_cli(cli, dest, cache, '--only', 'clip-features', 'clap-features', 'checkpoints')[0] == 0
    for f in llp.glob('*.csv'): shutil.copy(f, dest/'data'/f.name)
    for kind in ('vggish', 'res152', 'r2plus1d_18'): shutil.copytree(llp/kind, dest/'data'/'feats'/kind)
    return dest


def test_check_data_reports_an_incomplete_folder(hub, tmp_path, cli):
    "Row by row: what runs, from a released checkpoint or trained, and what cannot, with what it needs."
    dest = official_folder(hub, tmp_path, cli)
    code, out = cli_out(check_main, dest)
    assert code == 0 and 'Table 3 (ablation.ipynb): 7 of 8 rows run' in out and '  not run: A KD, V KD: needs teacher logits' in out
    assert 'Table 1 (benchmark.ipynb): 4 of 4 rows run; from a released checkpoint: VALOR' in out
    shutil.rmtree(dest/'data'/'CLAP'); (dest/'data'/'feats'/'vggish'/'r0030000000.npy').unlink()
    report = check_data(dest)
    assert report['coverage']['vggish'] == {'train': 6, 'val': 4, 'test': 7, 'files': 17}
    t = report['tables']
    assert t['table7'] == {'video labels as segment labels': 'runs', 'VALOR-generated segment labels': not_run(['test labels'])}
    assert t['table1']['VALOR++'] == not_run(['clap', 'labels']) and t['table3']['A base, V base'] == not_run(['vggish'])
    assert cli(check_main, dest)[0] == 1                                # no row of Table 2 can run


def cli_out(main, *args):
    "Exit status and standard output of a command."
    import contextlib, io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try: main([str(a) for a in args]); code = 0
        except SystemExit as e: code = e.code
    return code, out.getvalue()


@pytest.mark.slow
def test_benchmark_notebook_evaluates_the_fetched_checkpoints(hub, tmp_path, cli):
    "README's real-data path on tiny data: valor_fetch, then benchmark.ipynb with -p checkpoint_dir DEST/models."
    from test_reports import run_notebook
    dest = official_folder(hub, tmp_path/'dest', cli)
    from valor_nb.reproduce import OFFICIAL_PARAMS
    params = {k: v for k, v in OFFICIAL_PARAMS.items() if k not in ('labels_a', 'labels_v')}
    params.update(llp_dir=dest/'data', checkpoint_dir=dest/'models', out_dir=tmp_path/'figs', quick=True)
    figs = run_notebook('benchmark.ipynb', tmp_path, **params)
    t = pd.read_csv(figs/'table1_llp.csv')
    assert list(t['row'].unique()) == ['HAN', 'VALOR', 'VALOR+', 'VALOR++'] and t['ours'].notna().all()
    assert 'HAN: trained here; VALOR, VALOR+, VALOR++: released checkpoint' in (figs/'table1_llp.md').read_text()
