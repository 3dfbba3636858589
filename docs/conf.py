"Sphinx configuration of the documentation site (`docs/build` runs Sphinx with `-c docs` on the tree `docs/prepare.py` writes)."
import configparser
from pathlib import Path

_cfg = configparser.ConfigParser(interpolation=None)
_cfg.read(Path(__file__).resolve().parents[1]/'settings.ini')
_cfg = _cfg['DEFAULT']

project = _cfg['title']
author = _cfg['author']
copyright = _cfg['copyright']
release = version = _cfg['version']

extensions = ['myst_nb']
nb_execution_mode = 'off'           # the pages show the notebooks' committed outputs; nothing runs
smartquotes = False                 # keep command-line options as typed (--device, not an en dash)
exclude_patterns = ['_build', 'figures']   # figures/ holds images and the ledger's included file
suppress_warnings = []              # none: docs/build runs Sphinx with warnings as errors

html_theme = 'pydata_sphinx_theme'
html_title = f"{project} {release}"
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_theme_options = {
    'header_links_before_dropdown': 9,
    'navbar_align': 'left',
    'navigation_with_keys': False,
    'show_toc_level': 2,
    'secondary_sidebar_items': ['page-toc'],
    'footer_start': ['copyright'],
    'footer_end': ['sphinx-version'],
}
html_context = {'default_mode': 'light'}   # also keeps the theme from a console error on a first visit (no stored mode)
# no empty "Section Navigation" column beside the pages that have no sub-pages
html_sidebars = {page: [] for page in ('index', 'setup', 'quickstart', 'realdata', 'commands', 'claims_ledger', 'benchmarks', 'gallery')}
