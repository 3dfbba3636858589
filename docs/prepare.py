"""Write the documentation's Sphinx source tree into SRC: the notebooks of `nbs/` processed as nbdev processes them for its
own site, the hand-written pages of `docs/pages/`, and the pages generated from committed files and installed commands.

Usage: python docs/prepare.py SRC   (SRC is emptied first; `docs/build` runs it, then Sphinx on SRC.)

Notebooks are read, never executed: the pages show their committed outputs. nbdev's directives are honoured with nbdev's
own processors (`#| hide` and `default_exp` cells go, `#| hide_line`, `#| filter_stream`, magics), `#| export` cells stay
(the exported source, shown), raw front matter goes, and the options nbdev leaves to Quarto become MyST-NB's tags
(`#| echo: false`, `#| output: false`) or remove the cell (`#| include: false`). A `show_doc` cell becomes what Quarto makes
of it (nbdev marks it `#| output: asis`): its markdown output as page text, without Quarto's rule and link attributes.
"""
import ast, configparser, os, re, shutil, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from pathlib import Path

from execnb.nbio import mk_cell, read_nb, write_nb
from nbdev.process import NBProcessor
from nbdev.processors import clean_magics, clean_show_doc, filter_stream_, hide_, hide_line, strip_ansi, strip_hidden_metadata

ROOT = Path(__file__).resolve().parents[1]
NBS, FIGS, BENCH = ROOT/'nbs', ROOT/'figures', ROOT/'bench'
CFG = configparser.ConfigParser(interpolation=None)
CFG.read(ROOT/'settings.ini')
CFG = CFG['DEFAULT']

# --- notebooks ---------------------------------------------------------------------------------------------------------

def default_exp_(cell, *args): del cell['source']   # nbdev hides the module name too

def _asis(md:str) -> str:
    "A `show_doc` markdown output as page text: no `---` rule (a transition docutils refuses there), no `{...}` link attributes."
    md = re.sub(r'\]\(([^)\s]*)\)\{[^}]*\}', r'](\1)', md)
    md = '\n'.join(l for l in md.splitlines() if l.strip() != '---').strip()
    src = re.match(r'(\[source\]\([^)]*\))\s*', md)   # Quarto floats it to the right of the heading; here it follows the text
    return md[src.end():] + '\n\n' + src[1] if src else md

def quarto(cell):
    "The cell options nbdev leaves to Quarto (`#| echo: false`, `output: false|asis`, `include: false`), as MyST-NB reads them."
    if cell.cell_type != 'code' or not cell.source: return
    lines = cell.source.splitlines()
    opts = {}
    while lines and re.match(r'\s*#\|', lines[0]):
        k, _, v = lines.pop(0).split('|', 1)[1].partition(':')
        opts[k.strip()] = v.strip()
    cell.source = '\n'.join(lines)
    if opts.get('include') == 'false': del cell['source']; return
    if opts.get('output') == 'asis':
        md = ''.join(''.join(o['data']['text/markdown']) for o in cell.get('outputs', []) if 'text/markdown' in o.get('data', {}))
        for k in ('outputs', 'execution_count'): cell.pop(k, None)
        cell.update(cell_type='markdown', source=_asis(md), metadata={}, asis_=True)
        return
    tags = cell.metadata.setdefault('tags', [])
    if opts.get('echo') == 'false': tags.append('remove-input')
    if opts.get('output') == 'false': tags.append('remove-output')

def rebase(cell):
    "Links from `nbs/` to `../figures/`: the site keeps the notebooks and `figures/` side by side."
    if cell.cell_type == 'markdown': cell.source = re.sub(r'(\]\(|src=["\'])\.\./figures/', r'\1figures/', cell.source)

_FENCED = re.compile(r'(^(?:```|~~~).*?^(?:```|~~~)[ \t]*$)', re.M | re.S)

def _outside_code(md:str, fn) -> str:
    "`md` with `fn` applied to its text outside fenced code blocks."
    return ''.join(t if i % 2 else fn(t) for i, t in enumerate(_FENCED.split(md)))

def _levels(md:str) -> list:
    "The levels of `md`'s headings (not of `#` lines in its code blocks)."
    return [len(h) for h in re.findall(r'^(#+)\s', ''.join(_FENCED.split(md)[::2]), re.M)]

def fit_headings(cells:list):
    "Each `show_doc` text's headings one level below the section it sits in (Quarto takes a jump from # to ###, MyST warns)."
    level = 1
    for c in cells:
        found = _levels(c.source) if c.cell_type == 'markdown' else []
        if found and not c.get('asis_'): level = found[-1]
        elif found and min(found) > level + 1:
            drop = re.compile('^' + '#' * (min(found) - level - 1) + '(?=#)', re.M)
            c.source = _outside_code(c.source, partial(drop.sub, ''))

def docs_first(cells:list) -> list:
    "Each exported cell after the `show_doc` texts that follow it, as nbdev orders them (`mv_exports`): documentation, then source."
    out, i = [], 0
    while i < len(cells):
        j = i + 1
        if cells[i].get('directives_', {}).keys() & {'export', 'exports', 'exporti'}:
            while j < len(cells) and cells[j].get('asis_'): j += 1
        out += cells[i+1:j] + [cells[i]]
        i = j
    return out

def front_matter(cell):
    "Drop the raw front matter cell (nbdev turns it into Quarto's page options)."
    if cell.cell_type == 'raw' and cell.source.lstrip().startswith('---'): del cell['source']

PROCS = [front_matter, rebase, default_exp_, hide_, hide_line, filter_stream_, strip_ansi, clean_magics, strip_hidden_metadata,
         clean_show_doc, quarto]

def process(nb_path:Path, dest:Path, extra:list=()):
    "Write `nb_path` processed for the site to `dest`, with `extra` markdown cells at the end."
    nb = read_nb(nb_path)
    NBProcessor(nb=nb, procs=PROCS).process()
    nb.cells = docs_first(nb.cells)
    fit_headings(nb.cells)
    nb.cells = [c for c in nb.cells if c.source.strip() or c.get('outputs')] + [mk_cell(s, 'markdown') for s in extra]
    write_nb(nb, dest)

@cache
def title(nb_path:Path) -> tuple:
    "A notebook's `# title` and the `> summary` line under it."
    md = next(''.join(c['source']) for c in read_nb(nb_path).cells if c.cell_type == 'markdown')
    t, s = re.search(r'^#\s+(.+)$', md, re.M), re.search(r'^>\s*(.+)$', md, re.M)
    return (t[1].strip() if t else nb_path.stem), (s[1].strip() if s else '')

def is_report(nb_path:Path) -> bool:
    "Report notebooks are run with papermill: they have a cell tagged `parameters`."
    return any('parameters' in c.metadata.get('tags', []) for c in read_nb(nb_path).cells)

# --- figures -----------------------------------------------------------------------------------------------------------

def figure_table(stem:str):
    "The `valor_nb.paper.TABLES` record of a figure file: table7_classwise_synthetic -> table7, figure3_synthetic -> figures34."
    from valor_nb.paper import TABLES
    named = [t for n, t in TABLES.items() if stem.startswith(n + '_')]     # table1_methods_synthetic -> table1_methods
    if named: return max(named, key=lambda t: len(t.name))
    m = re.match(r'(table|figure)(\d+)', stem)
    if not m: return None
    kind, num = m.groups()
    return next((t for n, t in TABLES.items() if n == kind + num or (n.startswith(kind + 's') and num in n[len(kind) + 1:])), None)

def figure_info(png:Path, reports:dict) -> tuple:
    "(caption, report notebook or None) of a committed figure, from its table's record and its file name."
    t = figure_table(png.stem)
    words = png.stem.split('_')
    if t:
        nb, head = t.notebook, t.caption
        rest = re.sub(r'^(table|figure)\d+_?', '', png.stem).split('_')
        part = re.match(r'(table|figure)(\d+)', png.stem)
        if png.stem.startswith(t.name + '_'): rest = png.stem[len(t.name) + 1:].split('_')
        elif part[0] != t.name: head += f" ({part[1].title()} {part[2]})"
    else:
        nb = words[0] if words[0] in reports else None
        head, rest = (reports[nb] if nb else png.stem.replace('_', ' ')), words[1:]
    source = rest.pop() if rest and rest[-1] in ('synthetic', 'llp', 'ave') else None
    detail = ', '.join(x for x in (' '.join(rest), f'ours, {source} data' if source else '') if x)
    return f"{head}{'; ' + detail if detail else ''} (`figures/{png.name}`)", nb

def figure_order(png:Path) -> tuple:
    "Tables by number, then figures by number, then the rest."
    kind, num = re.match(r'(table|figure)?(\d*)', png.stem).groups()
    return ['table', 'figure', None].index(kind), int(num or 0), png.stem

def figure_md(png:Path, caption:str, nb:str|None=None) -> str:
    "A MyST figure; with `nb`, its caption links to the report notebook that writes it."
    link = f", written by [{nb}.ipynb]({nb}.ipynb)" if nb else ''
    return f"```{{figure}} figures/{png.name}\n:alt: {caption.split(' (`')[0]}\n\n{caption}{link}\n```\n"

# --- generated pages ---------------------------------------------------------------------------------------------------

def commands_page() -> str:
    "Each console script's `--help`, from the installed command."
    names = [s.split('=')[0] for s in CFG['console_scripts'].split()]
    env = {**os.environ, 'COLUMNS': '80', 'HF_HUB_OFFLINE': '1'}
    def help_text(name):
        exe = shutil.which(name)
        if not exe: sys.exit(f"docs: the command {name} is not installed (pip install -e .)")
        r = subprocess.run([exe, '--help'], capture_output=True, text=True, env=env, timeout=300)
        if r.returncode: sys.exit(f"docs: {name} --help failed:\n{r.stderr}")
        return r.stdout
    with ThreadPoolExecutor(4) as ex: helps = list(ex.map(help_text, names))
    out = ["# Commands\n\nThe package installs these commands (`settings.ini`'s `console_scripts`). Each one's `--help`, "
           "as the installed command prints it when this site is built:\n"]
    out += [f"## {n}\n\n```text\n{h.rstrip()}\n```\n" for n, h in zip(names, helps)]
    return '\n'.join(out)

def index_page(heading:str, intro:str, nbs:list, extra:dict=None) -> str:
    "A section page: a table of its notebooks (title and summary) and the toctree that puts them in the site's navigation."
    def cell(p): return (extra[p.stem] if extra else title(p)[1]).replace('|', '\\|')
    rows = [f"| [{title(p)[0]}]({p.name}) | `{p.name}` | {cell(p)} |" for p in nbs]
    toc = '\n'.join(p.stem for p in nbs)
    return (f"# {heading}\n\n{intro}\n\n| page | notebook | {'summary' if not extra else 'committed figures'} |\n|---|---|---|\n"
            + '\n'.join(rows) + f"\n\n```{{toctree}}\n:hidden:\n\n{toc}\n```\n")

def ledger_page() -> str:
    files = sorted(FIGS.glob('claims_*.md'))
    out = ["# Claims ledger\n\nEvery comparison the paper's text draws, measured seed by seed on our runs and judged "
           "*holds*, *within noise* or *reversed*, as the claims report ([](claims.ipynb)) last wrote it "
           f"({', '.join(f'`figures/{f.name}`' for f in files)}).\n"]
    out += [f"```{{include}} figures/{f.name}\n```\n" for f in files]
    return '\n'.join(out)

def tracked(folder:Path) -> list:
    "Files of `folder` that git tracks (committed outputs only, not what a local run left behind)."
    r = subprocess.run(['git', 'ls-files', '-z', str(folder)], cwd=ROOT, capture_output=True, text=True, check=True)
    return sorted(ROOT/f for f in r.stdout.split('\0') if f)

def benchmarks_page() -> str:
    "Each `bench/*.py` script with its docstring, and its committed output (`bench/<script>*`, not `.py`) where one exists."
    files = [f for f in tracked(BENCH) if f.suffix != '.py']
    out = ["# Benchmarks\n\nThe scripts in `bench/`, each described by its own docstring. Run one from the repository root "
           "(`python bench/NAME.py`); it prints its measurements."]
    if not files: out.append("No committed benchmark output exists yet: this page lists the scripts only, and quotes no numbers.")
    for py in sorted(BENCH.glob('*.py')):
        doc = ast.get_docstring(ast.parse(py.read_text())) or '(no docstring)'
        outs = [f for f in files if f.name.startswith(py.stem)]
        out.append(f"## bench/{py.name}\n\n{doc}")
        out += [f"Committed output, `{f.relative_to(ROOT)}`:\n\n```text\n{f.read_text().rstrip()}\n```" for f in outs]
        if files and not outs: out.append("No committed output of this script exists yet.")
    return '\n\n'.join(out) + '\n'

# --- the tree ----------------------------------------------------------------------------------------------------------

MARK = '.docs_src'   # marks a tree this script wrote, the only kind it empties

def main(src:Path):
    if src.exists() and any(src.iterdir()) and not (src/MARK).exists():
        sys.exit(f"docs: {src} is not empty and not a tree docs/prepare.py wrote: refusing to empty it")
    if src.exists(): shutil.rmtree(src)
    (src/'figures').mkdir(parents=True)
    (src/MARK).touch()
    for f in [*FIGS.glob('*.png'), *FIGS.glob('claims_*.md')]: shutil.copy(f, src/'figures'/f.name)
    for f in (ROOT/'docs'/'pages').glob('*.md'): shutil.copy(f, src/f.name)

    nbs = sorted(p for p in NBS.glob('*.ipynb') if p.name != 'index.ipynb')
    reports = [p for p in nbs if is_report(p)]
    library = [p for p in nbs if p not in reports]
    pngs = sorted((p for p in FIGS.glob('*.png') if not p.stem.startswith('docs_')), key=figure_order)   # not pictures of this site
    infos = {png: figure_info(png, {p.stem: title(p)[0] for p in reports}) for png in pngs}

    for p in library: process(p, src/p.name)
    for p in reports:
        figs = [figure_md(png, cap) for png, (cap, nb) in infos.items() if nb == p.stem]
        extra = ["## The committed figures\n\nWhat the default run of this notebook last wrote into `figures/`:\n"] + figs if figs else []
        process(p, src/p.name, extra)
    sections = {'setup': 'Set up', 'quickstart': 'Quick start', 'realdata': 'Real data', 'usage': 'Train, harvest, parse', 'commands': 'Commands', 'library': 'Library',
                'reports': 'Reports', 'claims_ledger': 'Claims', 'benchmarks': 'Benchmarks', 'gallery': 'Gallery'}   # page: its tab
    toc = '\n'.join(f'{tab} <{page}>' for page, tab in sections.items())
    process(NBS/'index.ipynb', src/'index.ipynb', [f"## Contents\n\n```{{toctree}}\n:maxdepth: 1\n\n{toc}\n```"])

    committed = {p.stem: ', '.join(f"`{png.name}`" for png, (_, nb) in infos.items() if nb == p.stem) or 'none' for p in reports}
    pages = {
        'commands': commands_page(),
        'library': index_page('Library notebooks', "Each notebook explains one component, defines it (the exported source "
                              "is the module's code) and tests it. The modules in `valor_nb/` are generated from them.", library),
        'reports': index_page('Report notebooks', "Each one reproduces a table or figure of the paper. They are run with "
                              "papermill (`valor_reproduce` runs them all) and committed as the default run executed them; each page "
                              "ends with the figures that run wrote.", reports, committed),
        'claims_ledger': ledger_page(),
        'benchmarks': benchmarks_page(),
        'gallery': "# Figure gallery\n\nEvery committed figure in `figures/`, captioned from its table's record "
                   "(`valor_nb.paper.TABLES`) and its file name.\n\n" + '\n'.join(figure_md(png, cap, nb) for png, (cap, nb) in infos.items()),
    }
    for name, text in pages.items(): (src/f'{name}.md').write_text(text)

if __name__ == '__main__':
    if len(sys.argv) != 2: sys.exit(__doc__)
    main(Path(sys.argv[1]).resolve())
