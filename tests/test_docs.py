"The documentation site as a reader meets it: `docs/build` into a temporary folder, then pages opened in headless Chromium."
import importlib.util, io, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'docs'))
from linkcheck import check   # noqa: E402  (docs/ is not a package: its scripts are imported by name)

# Pages a reader opens: the home page, a library notebook with a plot among its outputs, a report with its committed figure.
PAGES = {'index': 'valor_nb', '11_parse': 'Parse', 'ablation': 'Table 3'}


def git_status() -> str:
    return subprocess.run(['git', 'status', '--porcelain', '--untracked-files=all'], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The site, built by `docs/build` into a temporary folder; the repository is left as it was."
    missing = [m for m in ('sphinx', 'myst_nb', 'pydata_sphinx_theme') if importlib.util.find_spec(m) is None]
    if missing: pytest.skip(f"{', '.join(missing)} not installed (pip install -e '.[dev]'): the site cannot be built")
    tmp = tmp_path_factory.mktemp('docs')
    before = git_status()
    r = subprocess.run([str(ROOT/'docs'/'build'), str(tmp/'html'), str(tmp/'src')], capture_output=True, text=True)
    assert r.returncode == 0, f"docs/build failed:\n{r.stdout[-5000:]}\n{r.stderr[-5000:]}"
    assert git_status() == before, "docs/build changed files in the repository"
    return tmp/'html'


@pytest.mark.slow
def test_every_notebook_has_a_page(site):
    assert (site/'index.html').is_file()
    missing = [p.name for p in (ROOT/'nbs').glob('*.ipynb') if not (site/f'{p.stem}.html').is_file()]
    assert not missing, f"no page for {missing}"
    for page in ('setup', 'quickstart', 'realdata', 'commands', 'claims_ledger', 'benchmarks', 'gallery'):
        assert (site/f'{page}.html').is_file(), page
    assert not check(site)


@pytest.fixture(scope='module')
def browser():
    pytest.importorskip('websocket', reason='websocket-client is not installed: no way to drive Chromium')
    from browser import Browser, chromium
    if not chromium(): pytest.skip('chromium is not installed (Debian: apt-get install chromium): pages not checked in a browser')
    with Browser() as b: yield b


@pytest.mark.slow
@pytest.mark.parametrize('page', PAGES)
def test_page_in_chromium(site, browser, page):
    from PIL import Image
    seen = browser.visit(site/f'{page}.html')
    assert PAGES[page] in seen['heading'], f"{page}.html shows {seen['heading']!r} as its heading"
    assert not seen['errors'], f"{page}.html: console errors {seen['errors']}"
    assert seen['images'], f"{page}.html shows no image"
    assert all(width > 0 for _, width in seen['images']), f"{page}.html: images that did not load: {seen['images']}"
    shot = Image.open(io.BytesIO(seen['png'])).convert('RGB')
    assert shot.size == (1280, 900)
    colours = shot.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50, f"{page}.html: a screenshot of {len(colours)} colours (blank?)"


def test_notebooks_are_processed_as_nbdev_would(tmp_path):
    "Directives honoured: hidden cells and the module name gone, exported source shown, show_doc as page text; nothing runs."
    nbformat = pytest.importorskip('nbformat')
    from prepare import process
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    text = '---\n\n[source](https://example.org/f.py#L1){target="_blank"}\n\n### f\n\n```python\ndef f(x)\n```\n\n*Doc.*'
    doc = nbformat.v4.new_output('execute_result', {'text/plain': 'x', 'text/markdown': text}, execution_count=1)
    cells = [nbformat.v4.new_raw_cell('---\nskip_exec: true\n---'), code('#| default_exp m'), md('# Title\n\n> Summary.'),
             code('#| export\ndef f(x): return x'), code('show_doc(f)', outputs=[doc]), code('#| hide\nsecret = 1'),
             code('#| echo: false\nshown_output()'), code('#| output: false\nshown_code()'), code('#| include: false\ngone()'),
             code('%matplotlib inline\nf(1)')]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path/'in.ipynb')
    process(tmp_path/'in.ipynb', tmp_path/'out.ipynb', ['## Extra'])
    out = [(c.cell_type, c.source, c.metadata.get('tags', [])) for c in nbformat.read(tmp_path/'out.ipynb', 4).cells]
    assert out == [('markdown', '# Title\n\n> Summary.', []),
                   ('markdown', '## f\n\n```python\ndef f(x)\n```\n\n*Doc.*\n\n[source](https://example.org/f.py#L1)', []),
                   ('code', 'def f(x): return x', []),
                   ('code', 'shown_output()', ['remove-input']), ('code', 'shown_code()', ['remove-output']),
                   ('code', 'f(1)', []), ('markdown', '## Extra', [])]


def test_linkcheck_finds_what_a_reader_would_trip_on(tmp_path):
    "The offline link check of docs/build: a missing page, a missing anchor, a resource from the network."
    (tmp_path/'index.html').write_text('<h1 id="top">Home</h1><a href="b.html#top">b</a><a href="index.html#top">here</a>'
                                       '<a href="https://example.org/">external links are not followed</a>')
    (tmp_path/'b.html').write_text('<h1 id="b">B</h1><a href="gone.html">x</a><a href="index.html#nowhere">y</a>'
                                   '<script src="https://cdn.example.org/x.js"></script>')
    assert sorted(check(tmp_path)) == ['b.html: broken link gone.html', 'b.html: loads https://cdn.example.org/x.js from the network',
                                       'b.html: no anchor #nowhere in index.html (index.html#nowhere)',
                                       'index.html: no anchor #top in b.html (b.html#top)']
