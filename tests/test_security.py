"""Nothing a file says may run code or escape its folder: crafted checkpoints are refused before anything runs, video
names cannot become paths outside their folder, and the commands refuse to resume on another run's checkpoint."""
import io
import shutil

import numpy as np
import pytest
import torch

from valor_nb.data import load_split, random_split, write_llp
from valor_nb.core import read_torch_file
from valor_nb.teachers import ClapTeacher, build_offline_hub, read_clap_weights
from valor_nb.train import main as valor_train


class Payload:
    "What an attacker's pickle does: call a function of its choice (here: create a file) while it is loaded."
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (io.open, (self.marker, 'w'))


def crafted(path, marker, **extra):
    torch.save({'model': Payload(marker), **extra}, path)
    return path


def test_the_payload_would_run_without_weights_only(tmp_path):
    "The crafted file is a real attack: an unsafe load creates the marker (so the tests below can fail)."
    torch.load(crafted(tmp_path/'x.pt', tmp_path/'pwned'), weights_only=False)
    assert (tmp_path/'pwned').exists()


@pytest.fixture(scope='module')
def llp(tmp_path_factory):
    d = tmp_path_factory.mktemp('llp')
    return write_llp(d, {'train': random_split(32, seed=1), 'val': random_split(16, seed=2), 'test': random_split(16, seed=3)})


def train(llp, out, *extra, features=('vggish=vggish', 'res152=res152', 'r2plus1d_18=r2plus1d_18')):
    return (llp, '--features', *features, '--labels', 'a=labels_a', 'v=labels_v', '--epochs', '2', '--batch-size', '16',
            '--out', out, '--quiet', *extra)


def test_resume_refuses_a_crafted_last_pt(llp, tmp_path, cli):
    (tmp_path/'run').mkdir()
    crafted(tmp_path/'run'/'last.pt', tmp_path/'pwned')
    code, err = cli(valor_train, *train(llp, tmp_path/'run', '--resume'))
    assert code == 1 and not (tmp_path/'pwned').exists()
    assert err == (f"valor_train: {tmp_path/'run'/'last.pt'}: refused: the checkpoint of valor_train holds Python objects "
                   "other than tensors and plain values, which could run code when loaded\n")


def test_resume_names_a_truncated_checkpoint_and_other_data(llp, tmp_path, cli):
    assert cli(valor_train, *train(llp, tmp_path/'run'))[0] == 0
    last = (tmp_path/'run'/'last.pt').read_bytes()
    (tmp_path/'run'/'last.pt').write_bytes(last[:len(last) // 2])
    code, err = cli(valor_train, *train(llp, tmp_path/'run', '--resume'))
    assert code == 1 and err.startswith(f"valor_train: {tmp_path/'run'/'last.pt'}: not a readable checkpoint") and err.count('\n') == 1
    (tmp_path/'run'/'last.pt').write_bytes(last)
    shutil.copytree(llp/'vggish', tmp_path/'vggish_copy')
    code, err = cli(valor_train, *train(llp, tmp_path/'run', '--resume',
                                        features=(f"vggish={tmp_path/'vggish_copy'}", 'res152=res152', 'r2plus1d_18=r2plus1d_18')))
    assert code == 1 and 'written for another data: train.folders.vggish:' in err and str(tmp_path/'vggish_copy') in err
    assert str(llp/'vggish') in err and err.count('\n') == 1
    assert cli(valor_train, *train(llp, tmp_path/'run', '--resume'))[0] == 0      # the same data resumes (nothing left to do)


def test_video_names_never_become_paths_outside_their_folder(tmp_path):
    s = random_split(2, kinds=('vggish',), seed=1)
    s.names[1] = '../../escape_0_10'
    with pytest.raises(ValueError, match=r"'\.\./\.\./escape_0_10' is not an LLP video name"):
        write_llp(tmp_path/'llp', {'train': s})
    assert not (tmp_path/'llp').exists() and not list(tmp_path.parent.glob('escape*'))
    d = write_llp(tmp_path/'ok', {'test': random_split(2, kinds=('vggish',), seed=1)})
    text = (d/'AVVP_test_pd.csv').read_text().splitlines()
    (d/'AVVP_test_pd.csv').write_text('\n'.join(text[:2] + ['../vggish/x_0_10\tDog']) + '\n')
    with pytest.raises(ValueError, match=r"AVVP_test_pd.csv, line 3, video \.\./vggish/x_0_10: .* is not an LLP video name"):
        load_split(d, 'test', features={'vggish': 'vggish'})


def test_write_llp_writes_both_official_audio_names(tmp_path):
    d = write_llp(tmp_path, {'test': random_split(3, kinds=(), seed=4)})
    assert (d/'AVVP_eval_audio.csv').read_bytes() == (d/'AVVP_eval_audio_original2020.csv').read_bytes()
    assert np.array_equal(load_split(d, 'test', audio_gt='2024').gt_a, load_split(d, 'test').gt_a)


@pytest.fixture(scope='module')
def clap():
    build_offline_hub()
    torch.manual_seed(0)
    return ClapTeacher(weights=None)


def test_clap_weights_load_safely_and_exactly(clap, tmp_path):
    "A checkpoint in laion_clap's layout ('state_dict', 'module.' prefix) loads into the teacher with identical outputs."
    sd = {f'module.{k}': v for k, v in clap.clap.model.state_dict().items()}
    torch.save({'epoch': 45, 'name': 'fusion', 'state_dict': sd}, tmp_path/'630k-fusion-best.pt')
    torch.manual_seed(1)                                                     # another random start, replaced by the file
    loaded = ClapTeacher(weights=tmp_path/'630k-fusion-best.pt')
    assert torch.equal(loaded.text, clap.text) and loaded.scale == clap.scale
    wave = np.sin(np.linspace(0, 2000, 48_000)).astype(np.float32)[None]
    np.testing.assert_allclose(loaded(wave)[1], clap(wave)[1], atol=1e-5)


def test_clap_weights_refuse_a_crafted_file(tmp_path):
    crafted(tmp_path/'630k-fusion-best.pt', tmp_path/'pwned', state_dict={})
    with pytest.raises(ValueError, match='refused: the CLAP checkpoint holds Python objects'):
        read_clap_weights(tmp_path/'630k-fusion-best.pt')
    assert not (tmp_path/'pwned').exists()
    with pytest.raises(ValueError, match='refused'): read_torch_file(tmp_path/'630k-fusion-best.pt')
