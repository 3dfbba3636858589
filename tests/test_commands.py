"Every command's options: each has help text, and --help shows the defaults."
import contextlib, io

import pytest

from valor_nb.fetch import check_main, fetch_arguments
from valor_nb.harvesting import harvest_arguments
from valor_nb.parse import parse_arguments
from valor_nb.reproduce import main as reproduce_main
from valor_nb.train import train_arguments


def help_text(main) -> str:
    "What `main(['--help'])` prints (for commands whose parser is built inside main)."
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit): main(['--help'])
    return out.getvalue()


@pytest.mark.parametrize('parser', [fetch_arguments, harvest_arguments, parse_arguments, train_arguments])
def test_every_option_has_help(parser):
    p = parser()
    missing = [a.option_strings or a.dest for a in p._actions if not a.help]
    assert not missing, f"{p.prog}: options without help: {missing}"
    text = p.format_help()
    assert '(default: ' in text and '(default: None)' not in text


def test_inline_parsers():
    text = help_text(reproduce_main)
    assert '--runs RUNS           executed notebooks, not for git (default:' in text and '(default: None)' not in text
    assert '--debug' in help_text(check_main)
