"""Check a built site offline: every internal link and anchor resolves, and no page loads anything from the network.

Usage: python docs/linkcheck.py OUT   (exit status 1 and one line per problem otherwise)"""
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

class Page(HTMLParser):
    "The ids of one page, its links (`a href`) and the resources it loads (`src`, `link href`)."
    def __init__(self, text):
        super().__init__()
        self.ids, self.links, self.loads = set(), [], []
        self.feed(text)
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.ids.update(v for k, v in attrs if k in ('id', 'name') and v)
        if tag == 'a' and a.get('href'): self.links.append(a['href'])
        if a.get('src'): self.loads.append(a['src'])
        if tag == 'link' and a.get('href'): self.loads.append(a['href'])

def check(out:Path) -> list:
    pages = {p: Page(p.read_text(encoding='utf-8')) for p in out.rglob('*.html') if '_static' not in p.relative_to(out).parts}
    problems = []
    for p, page in pages.items():
        where = p.relative_to(out)
        for url in page.loads:
            if urlsplit(url).scheme in ('http', 'https') or url.startswith('//'): problems.append(f"{where}: loads {url} from the network")
        for url in page.links + page.loads:
            u = urlsplit(url)
            if u.scheme or u.netloc: continue            # external links (GitHub, papers) and data: URLs are not ours to check
            target = (p.parent/unquote(u.path)).resolve() if u.path else p
            if target.is_dir(): target = target/'index.html'
            if not target.is_file(): problems.append(f"{where}: broken link {url}"); continue
            if u.fragment and target in pages and unquote(u.fragment) not in pages[target].ids:
                problems.append(f"{where}: no anchor #{u.fragment} in {target.relative_to(out)} ({url})")
    return problems

if __name__ == '__main__':
    if len(sys.argv) != 2: sys.exit(__doc__)
    out = Path(sys.argv[1]).resolve()
    if not (out/'index.html').is_file(): sys.exit(f"linkcheck: {out}/index.html does not exist")
    problems = check(out)
    for line in problems: print(f"linkcheck: {line}", file=sys.stderr)
    if problems: sys.exit(1)
    print(f"linkcheck: {len(list(out.glob('*.html')))} pages, every internal link and anchor resolves, nothing loads from the network")
