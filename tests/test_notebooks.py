"The library notebooks are committed with their outputs, and those outputs are deterministic: no machine paths, no progress bars, no addresses."
import json, re
from pathlib import Path

import pytest

NBS = sorted((Path(__file__).parent.parent/'nbs').glob('[0-9]*.ipynb'))
UNSTABLE = re.compile(r'/tmp/|/home/|/root/|/work/|[0-9.]+it/s|s/it\]|at 0x[0-9a-f]{6,}|<ipython-input-')


def output_text(output) -> str:
    text = output.get('text') or ''.join(v if isinstance(v, str) else ''.join(v)
                                         for k, v in output.get('data', {}).items() if k.startswith('text/'))
    return ''.join(text) if isinstance(text, list) else text


@pytest.mark.parametrize('path', NBS, ids=[p.stem for p in NBS])
def test_committed_outputs_are_stable(path):
    cells = [c for c in json.loads(path.read_text())['cells'] if c['cell_type'] == 'code']
    outputs = [o for c in cells for o in c.get('outputs', [])]
    assert outputs, f"{path.name} has no outputs: run it (jupyter nbconvert --to notebook --execute --inplace) and nbdev_clean"
    assert not [o for o in outputs if o['output_type'] == 'error'], f"{path.name} was committed with an error"
    bad = [m.group() for o in outputs for m in [UNSTABLE.search(output_text(o))] if m]
    assert not bad, f"{path.name}: outputs that change from run to run or machine to machine: {bad[:3]}"


@pytest.mark.parametrize('path', sorted(NBS[0].parent.glob('*.ipynb')), ids=lambda p: p.stem)
def test_every_cell_has_an_id(path):
    "nbformat warns on a cell without an id (a future error), and that warning would reach every command that reads it."
    assert [i for i, c in enumerate(json.loads(path.read_text())['cells']) if 'id' not in c] == []
