"""Fuzzing every reader of user files: random byte and field mutations of valid files either load to a well-formed
result (the same one when the bytes did not change) or raise a documented exception (ValueError, OSError) that names the
file; never another exception, and nothing is written beside the file."""
import dataclasses
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from valor_nb.ave import read_ave_records
from valor_nb.data import DataWarning, load_features, load_labels, read_dense_gt, read_split, video_id
from valor_nb.han import build_han
from valor_nb.infer import load_model
from valor_nb.prompts import LLP_PROMPTS, load_prompts, prompts_tsv
from valor_nb.train import read_resume_state

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DOCUMENTED = (ValueError, OSError)

# Field values a user's file (or an attacker's) might hold: path tricks, odd numbers, invisible characters.
NASTY = ['', ' ', '../../x_0_10', '/etc/passwd', 'a/b', '..', '\ufeff', '\x00', 'nan', 'inf', '-inf', '-1', '1e300', '11',
         '10', '0', '3.5', 'Dog', 'Dog,Dog', 'Doge', 'Speech,', ',', 'aaaaaaaaaaa_0_10', 'aaaaaaaaaa_0_10', '\t', '"', 'é']


@st.composite
def mutations(draw, data:bytes, text:bool=True):
    "Bytes of `data` after 1-3 random edits: flips, insertions, deletions, truncation, or (text) a replaced field."
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(['flip', 'insert', 'delete', 'truncate'] + (['field'] * 3 if text else [])))
        i = draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == 'flip' and out: out[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == 'insert': out[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif kind == 'delete': del out[i:i + draw(st.integers(1, 4))]
        elif kind == 'truncate': del out[i:]
        elif kind == 'field':
            fields = bytes(out).split(b'\t')
            j = draw(st.integers(0, len(fields) - 1))
            lines = fields[j].split(b'\n')
            k = draw(st.integers(0, len(lines) - 1))
            lines[k] = draw(st.sampled_from(NASTY) | st.text(max_size=12)).encode('utf-8', 'surrogatepass')
            fields[j] = b'\n'.join(lines)
            out = bytearray(b'\t'.join(fields))
    return bytes(out)


def check(read, path:Path, original:bytes, mutated:bytes, well_formed):
    "Read `original` from `path`, then `mutated`, and check the contract."
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(original)
    expected = read(path)
    path.write_bytes(mutated)
    before = sorted(path.parent.rglob('*'))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DataWarning)
            got = read(path)
    except DOCUMENTED as e:
        assert path.name in str(e), f"error does not name the file: {str(e)[:300]!r}"
        assert '\n' not in str(e).strip(), f"error is not one line: {str(e)[:300]!r}"
        return
    finally: assert sorted(path.parent.rglob('*')) == before, 'a reader wrote files'
    well_formed(got)
    if mutated == original: assert equal(got, expected), 'the same bytes read differently'


def equal(a, b):
    if isinstance(a, (tuple, list)): return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor): return torch.equal(a, b)
    if isinstance(a, np.ndarray): return np.array_equal(a, b)
    if isinstance(a, dict): return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a): return equal(dataclasses.astuple(a), dataclasses.astuple(b))
    return a == b


@pytest.fixture(scope='module')
def folder():
    with tempfile.TemporaryDirectory() as d: yield Path(d)


SPLIT = b'filename\tevent_labels\naaaaaaaaaaa_0_10\tSpeech,Dog\nb-b_bbbbbbb_30_40\tCar\nccccccccccc_1.5_11.5\tCat,Clapping\n'
NAMES = ['aaaaaaaaaaa_0_10', 'b-b_bbbbbbb_30_40', 'ccccccccccc_1.5_11.5']


def split_ok(r):
    names, weak = r
    assert all(video_id(n) == n[:11] for n in names) and len({n[:11] for n in names}) == len(names)
    assert weak.shape == (len(names), 25) and weak.dtype == np.uint8 and set(np.unique(weak)) <= {0, 1}


@FUZZ
@given(st.data())
def test_split_csv(folder, data):
    check(read_split, folder/'split'/'AVVP_train.csv', SPLIT, data.draw(mutations(SPLIT)), split_ok)


EVAL = (b'filename\tonset\toffset\tevent_labels\naaaaaaaaaaa_0_10\t0\t3\tSpeech\naaaaaaaaaaa_0_10\t2\t10\tDog\n'
        b'ccccccccccc_1.5_11.5\t4\t9\tCat\nzzzzzzzzzzz_0_10\t0\t10\tCar\n')


def dense_ok(gt): assert gt.shape == (3, 10, 25) and gt.dtype == np.uint8 and set(np.unique(gt)) <= {0, 1}


@FUZZ
@given(st.data())
def test_eval_csv(folder, data):
    check(lambda p: read_dense_gt(p, NAMES), folder/'eval'/'AVVP_eval_visual.csv', EVAL, data.draw(mutations(EVAL)), dense_ok)


CLASSES = prompts_tsv(LLP_PROMPTS).encode()


def prompts_ok(p):
    assert len(p.classes) == len(set(p.classes)) >= 1 and all(c and c == c.strip() for c in p.classes)
    assert all(np.isfinite(t) or np.isnan(t) for t in (*p.theta_clip, *p.theta_clap))
    assert not np.isinf(np.concatenate([p.theta_clip, p.theta_clap])).any()


@FUZZ
@given(st.data())
def test_class_tsv(folder, data):
    check(load_prompts, folder/'classes'/'mine.tsv', CLASSES, data.draw(mutations(CLASSES)), prompts_ok)


AVE = b'Church bell&RUhOCu3LNXM&good&0&10\nDog&MH3m4AwEcRY&good&6&8\nDog&2An2J-_GMbb&bad&0&10\n'


def ave_ok(records): assert all(len(r[1]) == 11 and 0 <= r[3] <= r[4] <= 10 for r in records)


@FUZZ
@given(st.data())
def test_ave_annotations(folder, data):
    check(read_ave_records, folder/'ave'/'Annotations.txt', AVE, data.draw(mutations(AVE)), ave_ok)


def npy_bytes(x):
    import io
    f = io.BytesIO(); np.save(f, x); return f.getvalue()


FEATURE = npy_bytes(np.linspace(-1, 1, 10 * 128, dtype=np.float32).reshape(10, 128))
LABEL = npy_bytes(np.eye(10, 25, dtype=np.uint8))


@FUZZ
@given(st.data(), st.sampled_from(['feature', 'label']))
def test_npy_features_and_labels(folder, data, what):
    original = FEATURE if what == 'feature' else LABEL
    read = (lambda p: load_features(p.parent, ['aaaaaaaaaaa_0_10'], 'vggish')) if what == 'feature' else \
           (lambda p: load_labels(p.parent, ['aaaaaaaaaaa_0_10']))
    def ok(x):
        assert x.dtype == torch.float32 and torch.isfinite(x).all()
        assert x.shape == ((1, 10, 128) if what == 'feature' else (1, 10, 25))
        if what == 'label': assert ((x == 0) | (x == 1)).all()
    check(read, folder/f'npy_{what}'/'aaaaaaaaaaa.npy', original, data.draw(mutations(original, text=False)), ok)


def torch_bytes(obj):
    import io
    f = io.BytesIO(); torch.save(obj, f); return f.getvalue()


torch.manual_seed(0)
TINY = dict(hidden=16, ff=32, heads=2)
_tiny = build_han('valor++', **TINY)
CHECKPOINT = torch_bytes({'model': _tiny.state_dict(), 'config': {'han': dataclasses.asdict(_tiny.cfg)}})   # as our last.pt


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_checkpoints(folder, data):
    "A checkpoint of ours with its configuration: the parser's reader loads a finite model of 25 classes or names the file."
    read = lambda p: load_model(p, 'valor++').state_dict()
    def ok(sd): assert sd['heads.prob.weight'].shape[0] == 25 and all(torch.isfinite(v).all() for v in sd.values() if v.is_floating_point())
    check(read, folder/'ckpt'/'best.pt', CHECKPOINT, data.draw(mutations(CHECKPOINT, text=False)), ok)


RESUME = {'model': build_han('valor', **TINY).state_dict(), 'optimizer': {'state': {}, 'param_groups': []}, 'epoch': 1,
          'history': [{'epoch': 1, 'loss': 0.5}], 'best': {'score': 1.0, 'epoch': 1, 'state': None},
          'rng': torch.get_rng_state(), 'shuffle': torch.Generator().get_state(), 'config': {'recipe': {'epochs': 2}},
          'data': {'train': {'videos': 3}}}
RESUME_BYTES = torch_bytes(RESUME)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_resume_checkpoints(folder, data):
    read = lambda p: read_resume_state(p, RESUME['config'], RESUME['data'])
    def ok(ck): assert set(ck) >= {'model', 'optimizer', 'epoch', 'history'} and len(ck['history']) == ck['epoch']
    check(read, folder/'resume'/'last.pt', RESUME_BYTES, data.draw(mutations(RESUME_BYTES, text=False)), ok)
