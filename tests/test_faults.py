"Nothing lost under faults: runs started together, Ctrl-C, kill -9, a full disk, a read-only folder, bad file names."
import errno
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from valor_nb.core import HOST, atomic_write
from valor_nb.parse import main as parse_main
from valor_nb.reproduce import main as reproduce_main
from valor_nb.train import main as train_main

NBS = str(Path(__file__).resolve().parents[1]/'nbs')
TINY = 'valor-tiny-clip-768'
FULL = r"not written, the disk is full \(\d+\.\d MB free there\); free some space or write elsewhere"
INTERRUPTED = 'valor_reproduce: interrupted; finished outputs are complete on disk; to go on, run: '


@pytest.fixture
def tmpfs(tmp_path):
    "mount(size, *options): a new tmpfs folder of `size` (a full disk, a read-only folder); skip where mounting is not allowed."
    mounted = []
    def mount(size, *options):
        if os.geteuid() != 0 or not shutil.which('mount'): pytest.skip('mounting a tmpfs needs root: no size-limited folder')
        d = tmp_path/f'tmpfs{len(mounted)}'
        d.mkdir()
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', ','.join([f'size={size}', *options]), 'tmpfs', str(d)],
                           capture_output=True, text=True)
        if r.returncode: pytest.skip(f'cannot mount a tmpfs here ({r.stderr.strip()}): no size-limited folder')
        mounted.append(d)
        return d
    yield mount
    for d in mounted: subprocess.run(['umount', '-l', str(d)], check=False)


def reproduce(cwd, *args, **popen):
    """valor_reproduce --quick in `cwd`, in its own session, as a terminal runs it: Ctrl-C reaches its process group (and
    is not ignored, though a shell's background job, as these tests may be, ignores it)."""
    return subprocess.Popen([sys.executable, '-c', 'from valor_nb.reproduce import main; main()', '--quick', '--nbs', NBS, *map(str, args)],
                            cwd=cwd, start_new_session=True, text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **popen)


def wait_for(condition, seconds=120):
    t0 = time.time()
    while not condition():
        assert time.time() - t0 < seconds, 'timed out'
        time.sleep(0.2)


def temporary_files(folder): return sorted(p.name for p in Path(folder).rglob('.*.tmp'))


def sockets_left(folder): return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith('kernel'))


# --- valor_reproduce: kernels' sockets, Ctrl-C, kill -9, the executed notebook ---

def test_two_reproduce_runs_started_together_in_one_folder(tmp_path):
    runs = [reproduce(tmp_path, '--only', 'fidelity', 'thresholds', '--out', tmp_path/f'figs{i}', '--runs', tmp_path/'runs',
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in (1, 2)]
    for p in runs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert 'table7' in out
    assert sockets_left(tmp_path) == [] and temporary_files(tmp_path) == []
    assert sorted(p.name for p in (tmp_path/'runs').iterdir()) == ['fidelity.ipynb', 'thresholds.ipynb']


def test_reproduce_in_a_read_only_folder(tmp_path, tmpfs):
    read_only = tmpfs('1m', 'ro')
    p = reproduce(read_only, '--only', 'thresholds', '--out', tmp_path/'figs', '--runs', tmp_path/'runs',
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0 and err == '', err
    assert (tmp_path/'runs'/'thresholds.ipynb').is_file()


def test_a_kernel_that_dies_is_one_line(tmp_path, capfd):
    "A report whose kernel dies (killed, out of memory): ReportFailed names it; papermill's own log line stays off the terminal."
    import nbformat
    from valor_nb.reproduce import ReportFailed, run_report
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('seed = 0', metadata={'tags': ['parameters']}),
                                         nbformat.v4.new_code_cell('import os; os._exit(1)')],
                                  metadata={'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}})
    nbformat.write(nb, tmp_path/'dies.ipynb')
    with pytest.raises(ReportFailed, match='dies.ipynb its kernel died'): run_report('dies', {}, tmp_path, tmp_path/'runs')
    assert 'Kernel died' not in capfd.readouterr().err
    assert temporary_files(tmp_path) == []


def test_ctrl_c_prints_one_line(tmp_path):
    "Ctrl-C while the kernel runs a cell: the command's one line, nothing from the kernel; no sockets, no temporary notebook."
    nbs = shutil.copytree(NBS, tmp_path/'nbs')              # a report whose last cell is still running when Ctrl-C comes
    nb = json.loads((nbs/'fidelity.ipynb').read_text())       # (quick reports can end within the wait on a warm machine)
    nb['cells'].append({'cell_type': 'code', 'id': 'sleeping', 'metadata': {}, 'execution_count': None, 'outputs': [],
                        'source': ['import time\n', 'time.sleep(120)']})
    (nbs/'fidelity.ipynb').write_text(json.dumps(nb))
    p = reproduce(tmp_path, '--only', 'fidelity', '--nbs', nbs, '--out', tmp_path/'figs', '--runs', tmp_path/'runs',
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: temporary_files(tmp_path/'runs'))      # papermill has written the notebook's first state
    time.sleep(2)                                           # the kernel is in a cell
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=60)                   # the pipes close when every process holding them is gone
    assert p.returncode == 130
    assert err.startswith(INTERRUPTED) and err.count('\n') == 1, err
    assert sockets_left(tmp_path) == [] and temporary_files(tmp_path) == []


def test_kill_9_leaves_no_sockets_and_the_next_run_sweeps_its_notebook(tmp_path):
    p = reproduce(tmp_path, '--only', 'fidelity', '--out', tmp_path/'figs', '--runs', tmp_path/'runs',
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: temporary_files(tmp_path/'runs'))
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert sockets_left(tmp_path) == []
    assert temporary_files(tmp_path) == [f'.fidelity.ipynb.{p.pid}.{HOST}.tmp']     # a dead process's: nobody can remove it
    again = reproduce(tmp_path, '--only', 'thresholds', '--out', tmp_path/'figs', '--runs', tmp_path/'runs',
                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert again.wait(timeout=300) == 0, again.stderr.read()
    assert temporary_files(tmp_path) == []


def test_reproduce_on_a_full_disk(tmp_path, tmpfs, cli):
    "The executed notebook does not fit: one line naming it, and no truncated notebook."
    full = tmpfs('8k')
    code, err = cli(reproduce_main, '--quick', '--only', 'fidelity', '--nbs', NBS, '--out', tmp_path/'figs', '--runs', full/'runs')
    assert code == 1 and re.fullmatch(f"valor_reproduce: {full}/runs/fidelity.ipynb: {FULL}\n", err), err
    assert list((full/'runs').iterdir()) == []


def test_out_that_is_a_file(tmp_path, cli):
    (tmp_path/'figs').write_text('')
    code, err = cli(reproduce_main, '--quick', '--only', 'fidelity', '--nbs', NBS, '--out', tmp_path/'figs')
    assert (code, err) == (1, f"valor_reproduce: --out {tmp_path}/figs: it is a file, not a folder; choose a folder\n")


# --- a full disk: torch.save, valor_train ---

def test_torch_save_on_a_full_disk(tmpfs):
    full = tmpfs('64k')
    with pytest.raises(OSError) as e: atomic_write(full/'big.pt', lambda p: torch.save(torch.zeros(100_000), p))
    assert re.fullmatch(f"{full}/big.pt: {FULL}", str(e.value)) and e.value.errno == errno.ENOSPC
    assert list(full.iterdir()) == []


def test_valor_train_on_a_full_disk(tmpfs, cli):
    full = tmpfs('200k')
    code, err = cli(train_main, '--synthetic', '--epochs', '1', '--out', full/'run', '--quiet', '--device', 'cpu')
    assert code == 1 and re.fullmatch(f"valor_train: {full}/run/\\w+\\.pt: {FULL}\n", err), err
    assert temporary_files(full) == []


# --- valor_parse: a full disk, names the file system refuses or UTF-8 cannot hold ---

@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    "Five-second clips under odd names: a byte that is not UTF-8, a 240-character stem (its temporary names would pass 255 "
    "bytes), a 250-character stem (its outputs' names do pass 255 bytes), and a plain one."
    from valor_nb.teachers import build_offline_hub
    from valor_nb.testing import make_clip, register_tiny_clip
    d = tmp_path_factory.mktemp('clips')
    make_clip(d/'plain.mp4', seconds=5)
    for name in (b'caf\xe9.mp4', b'a' * 240 + b'.mp4', b'b' * 250 + b'.mp4'): os.link(d/'plain.mp4', os.path.join(os.fsencode(d), name))
    build_offline_hub(); register_tiny_clip(TINY, 768)
    return d


def run_parse(cli, videos, out):
    code, err = cli(parse_main, *videos, '--out', out, '--random-weights', '--clip-model', TINY, '--quiet')
    return code, err, json.loads((Path(out)/'parse_summary.json').read_text())


def outputs(out, stem): return sorted(n for n in os.listdir(os.fsencode(out)) if n.startswith(os.fsencode(stem) + b'.') or n.startswith(os.fsencode(stem) + b'_'))


@pytest.mark.slow   # builds the random extractors: about 30 s
def test_parse_batch_goes_on_past_bad_names(clips, tmp_path, cli):
    latin1, long_ok, too_long = (os.fsdecode(n) for n in (b'caf\xe9', b'a' * 240, b'b' * 250))
    code, err, summary = run_parse(cli, [clips/f'{n}.mp4' for n in (latin1, long_ok, too_long, 'plain')], tmp_path/'out')
    assert code == 1
    assert sorted(summary['parsed']) == sorted(str(clips/f'{n}.mp4') for n in (latin1, long_ok, 'plain'))
    assert list(summary['failed']) == [str(clips/f'{too_long}.mp4')]
    assert summary['failed'][str(clips/f'{too_long}.mp4')].endswith('_audio.csv: not written, its name has 260 bytes, more than a file name holds; shorten it')
    assert json.loads((tmp_path/'out'/f'{latin1}.json').read_text())['video'] == 'caf\ufffd'
    for stem in (latin1, long_ok, 'plain'): assert len(outputs(tmp_path/'out', stem)) == 4
    assert outputs(tmp_path/'out', too_long) == [] and temporary_files(tmp_path/'out') == []


@pytest.mark.slow   # builds the random extractors: about 30 s
def test_parse_on_a_full_disk_lists_each_video(clips, tmpfs, cli):
    "A timeline picture is about 80 kB: on a 160 kB disk the first video fits, the next ones fail alone and leave nothing."
    full = tmpfs('160k')
    videos = [clips/'plain.mp4', clips/f"{'a' * 240}.mp4", clips/os.fsdecode(b'caf\xe9.mp4')]
    code, err, summary = run_parse(cli, videos, full)
    assert code == 1 and summary['videos'] == 3 and len(summary['parsed']) + len(summary['failed']) == 3
    assert summary['failed'] and all(re.search(FULL, why) for why in summary['failed'].values())
    for v in map(Path, summary['parsed']): assert len(outputs(full, v.stem)) == 4
    for v in map(Path, summary['failed']): assert outputs(full, v.stem) == []
    assert temporary_files(full) == []
    assert 'not parsed:' in err


# --- the timeline's fonts ---

def test_cjk_names_in_the_timeline():
    from matplotlib import rcParams
    from valor_nb.parse import Parse, timeline_figure, timeline_fonts
    from valor_nb.prompts import Prompts
    if timeline_fonts() == list(rcParams['font.family']):
        pytest.skip('no CJK font installed (none of valor_nb.parse.CJK_FONTS; Debian: apt-get install fonts-noto-cjk): '
                    'Chinese, Japanese and Korean names render as boxes')
    prompts = Prompts(('狗', '猫', '说话'), ('a dog',) * 3, ('a dog',) * 3, np.full(3, 0.5), np.full(3, 0.5), 'test')
    p = Parse('视频', '视频.mp4', 10.0, True, prompts, np.full((10, 2, 3), 0.9, np.float32), np.ones((10, 3), np.float32), [0], False)
    with warnings.catch_warnings():
        warnings.filterwarnings('error', 'Glyph .* missing from font')
        timeline_figure(p).savefig(io.BytesIO(), format='png')
