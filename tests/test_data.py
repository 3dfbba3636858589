"The LLP data layer: real annotation files (when VALOR_LLP_DIR is set) and clear errors on bad input."
import numpy as np
import pytest
import torch

from valor_nb.data import (AUDIO_GT_FILES, VISUAL_GT_FILE, load_features, load_labels, load_split, read_dense_gt,
                           read_split, save_npy)
from valor_nb.prompts import LLP_CLASSES


def test_real_splits(llp_dir):
    sizes = {s: len(load_split(llp_dir, s, dense_gt=False)) for s in ('train', 'val', 'test')}
    assert sizes == {'train': 10000, 'val': 649, 'test': 1200}
    train = load_split(llp_dir, 'train')
    assert train.gt_a is None and train.weak.shape == (10000, 25)
    counts = np.bincount(train.weak.sum(1).astype(int))
    assert [round(100 * c / 10000, 1) for c in counts[1:]] == [40.3, 58.8, 0.9]   # llp_data.md
    assert train.weak.sum(0)[0] == 4988 and train.weak.sum(0)[21] == 99   # Speech, Telephone (llp_data.md)


def test_real_quirks(llp_dir):
    test = load_split(llp_dir, 'test')
    i = test.names.index('LcFWKgFphXI_20_30')       # 'Clapping,Clapping' in the CSV
    assert test.weak[i].sum() == 1 and test.weak[i, LLP_CLASSES.index('Clapping')] == 1
    val = load_split(llp_dir, 'val')
    i = val.names.index('8DF2PxdT5tE_390_400')      # audio row 'onset 9, offset 0' sets nothing
    assert val.gt_a[i, :, LLP_CLASSES.index('Cheering')].sum() == 0
    assert val.gt_a[i, :, LLP_CLASSES.index('Speech')].tolist() == [1, 1, 0, 0, 0, 0, 0, 1, 1, 1]


def test_real_statistics_match_spec(llp_dir):
    "Statistics of llp_data.md, recomputed from our dense GT: a check that every row is read as the spec says."
    sp = [load_split(llp_dir, s) for s in ('val', 'test')]
    ga, gv = (np.concatenate([getattr(s, k) for s in sp]).any(1) for k in ('gt_a', 'gt_v'))
    w = np.concatenate([s.weak for s in sp]).astype(bool)
    assert (ga & ~w).sum() == 51 and (gv & ~w).sum() == 40          # GT events outside the weak label
    n = w.sum()
    mix = [round(100 * (x & w).sum() / n, 1) for x in (ga & ~gv, gv & ~ga, ga & gv, ~ga & ~gv)]
    assert mix == [34.4, 4.2, 60.3, 1.2]


def test_audio_versions_differ_on_the_fixed_rows(llp_dir):
    old, new = (load_split(llp_dir, 'test', audio_gt=v) for v in ('2020', '2024'))
    changed = sorted({old.names[i] for i in np.flatnonzero((old.gt_a != new.gt_a).any((1, 2)))})
    assert changed == ['JfZEqeLZqWk_30_40', 'KvIjsmANkxI_10_20']
    assert (old.gt_v == new.gt_v).all()


def test_split_path_and_example_csv(llp_dir):
    ex = load_split(llp_dir, str(llp_dir/'valor_example.csv'), dense_gt=True)
    assert ex.names == ['4O9rI-FpqLg_10_20'] and ex.gt_a.shape == (1, 10, 25) and ex.gt_a.sum() > 0


# ---- bad input: one clear error naming the file and the video ---------------------------------------------------

@pytest.fixture
def toy(tmp_path):
    (tmp_path/'AVVP_test_pd.csv').write_text('filename\tevent_labels\naaaaaaaaaaa_0_10\tDog\nbbbbbbbbbbb_5_15\tCat,Dog\n')
    (tmp_path/AUDIO_GT_FILES['2020']).write_text('filename\tonset\toffset\tevent_labels\naaaaaaaaaaa_0_10\t0\t10\tDog\n')
    (tmp_path/VISUAL_GT_FILE).write_text('filename\tonset\toffset\tevent_labels\nbbbbbbbbbbb_5_15\t3\t5\tCat\n')
    for vid in ('aaaaaaaaaaa', 'bbbbbbbbbbb'): save_npy(tmp_path/'vggish'/f'{vid}.npy', np.zeros((10, 128), np.float32))
    return tmp_path


def test_toy_split_loads(toy):
    s = load_split(toy, 'test', features={'vggish': 'vggish'})
    assert s.gt_v[1, 3:5, LLP_CLASSES.index('Cat')].tolist() == [1, 1] and s.gt_v.sum() == 2
    assert s.features['vggish'].dtype == torch.float32 and s.features['vggish'].shape == (2, 10, 128)


@pytest.mark.parametrize('content, message', [
    ('', 'empty file'),
    ('filename\tevent_labels\n', 'no rows below the header'),
    ('name\tlabels\naaaaaaaaaaa_0_10\tDog\n', 'expected the header filename<TAB>event_labels'),
    ('filename\tevent_labels\naaaaaaaaaaa_0_10\tDog\tCat\n', 'line 2: expected 2 tab-separated fields'),
    ('filename\tevent_labels\naaaaaaaaaaa_0_10\tdog\n', "line 2, video aaaaaaaaaaa_0_10: unknown class name 'dog'"),
    ('filename\tevent_labels\nshort_0_10\tDog\n', 'line 2, video short_0_10'),
    ('filename\tevent_labels\naaaaaaaaaaa_0_10\tDog\naaaaaaaaaaa_0_10\tCat\n', 'line 3, video aaaaaaaaaaa_0_10: video listed twice'),
])
def test_bad_split_csv(tmp_path, content, message):
    (tmp_path/'split.csv').write_text(content)
    with pytest.raises(ValueError, match=None) as e: read_split(tmp_path/'split.csv')
    assert message in str(e.value) and 'split.csv' in str(e.value)


@pytest.mark.parametrize('row, message', [
    ('aaaaaaaaaaa_0_10\t0\t11\tDog', 'onset/offset 0, 11 outside 0..10'),
    ('aaaaaaaaaaa_0_10\t0.5\t3\tDog', 'onset/offset must be whole seconds'),
    ('aaaaaaaaaaa_0_10\t0\t3\tDogs', "unknown class name 'Dogs'"),
])
def test_bad_eval_csv(tmp_path, row, message):
    (tmp_path/'gt.csv').write_text('filename\tonset\toffset\tevent_labels\n' + row + '\n')
    with pytest.raises(ValueError) as e: read_dense_gt(tmp_path/'gt.csv', ['aaaaaaaaaaa_0_10'])
    assert message in str(e.value) and 'gt.csv, line 2, video aaaaaaaaaaa_0_10' in str(e.value)


def test_bad_feature_files(toy):
    names = ['aaaaaaaaaaa_0_10', 'bbbbbbbbbbb_5_15']
    with pytest.raises(FileNotFoundError, match='res152 feature folder not found'): load_features(toy/'res152', names, 'res152')
    with pytest.raises(ValueError, match="unknown feature kind 'resnet'"): load_features(toy/'vggish', names, 'resnet')
    with pytest.raises(ValueError, match=r'has shape \(10, 128\), expected \(10, 512\)'): load_features(toy/'vggish', names, 'r2plus1d_18')
    save_npy(toy/'vggish'/'bbbbbbbbbbb.npy', np.full((10, 128), np.inf, np.float32))
    with pytest.raises(ValueError, match='bbbbbbbbbbb.npy: vggish feature of video bbbbbbbbbbb_5_15 has 1280 NaN/inf'):
        load_features(toy/'vggish', names, 'vggish')
    (toy/'vggish'/'bbbbbbbbbbb.npy').write_bytes(b'not an npy file')
    with pytest.raises(ValueError, match='unreadable vggish feature file for video bbbbbbbbbbb_5_15'):
        load_features(toy/'vggish', names, 'vggish')
    (toy/'vggish'/'aaaaaaaaaaa.npy').unlink(); (toy/'vggish'/'bbbbbbbbbbb.npy').unlink()
    with pytest.raises(FileNotFoundError, match='2 of 2 vggish feature files missing; first: aaaaaaaaaaa.npy for video aaaaaaaaaaa_0_10'):
        load_features(toy/'vggish', names, 'vggish')


def test_labels_and_missing_audio_version(toy):
    names = ['aaaaaaaaaaa_0_10', 'bbbbbbbbbbb_5_15']
    for vid in ('aaaaaaaaaaa', 'bbbbbbbbbbb'): save_npy(toy/'lab'/f'{vid}.npy', np.ones((10, 25), np.int64))
    assert load_labels(toy/'lab', names).sum() == 500
    with pytest.raises(ValueError, match=r'shape \(10, 25\), expected \(10, 3\)'): load_labels(toy/'lab', names, n_classes=3)
    with pytest.raises(FileNotFoundError, match="audio annotations \\(2024 version\\) not found; pass audio_gt='2020'"):
        load_split(toy, 'test', audio_gt='2024')
    with pytest.raises(ValueError, match=r"labels: modality must be 'a' or 'v', got \['audio'\]"): load_split(toy, 'test', labels={'audio': 'lab'})


def test_save_npy_leaves_no_temporary(tmp_path):
    save_npy(tmp_path/'x.npy', np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ['x.npy'] and np.load(tmp_path/'x.npy').tolist() == [0, 1, 2]
