"""Look at built pages as a reader would, in headless Chromium driven over the DevTools protocol (no network, no downloads).

`Browser().visit(path)` loads a local HTML file and returns what the reader got: console errors and uncaught exceptions,
each image's address and natural width, and a PNG screenshot. Needs the `chromium` program (Debian: apt-get install
chromium) and the websocket-client package. `python docs/browser.py PAGE.html OUT.png` writes a screenshot
(`figures/docs_home.png` is `python docs/browser.py _docs/index.html figures/docs_home.png`).
"""
import base64, itertools, json, shutil, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

import websocket

FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-extensions', '--hide-scrollbars', '--mute-audio',
         '--force-color-profile=srgb', '--remote-debugging-port=0', '--remote-allow-origins=*']
WIDTH, HEIGHT = 1280, 900

# The images, made eager and decoded (a lazy image below the fold would otherwise report width 0 however good it is).
IMAGES_JS = """Promise.all([...document.images].map(i => { i.loading = 'eager';
    return i.decode().then(() => [i.currentSrc || i.src, i.naturalWidth], () => [i.currentSrc || i.src, 0]); }))"""

def chromium() -> str|None:
    return shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')

class Browser:
    def __init__(self, timeout:float=60):
        self.dir = tempfile.TemporaryDirectory(prefix='valor_docs_chromium_')
        self.proc = subprocess.Popen([chromium(), *FLAGS, f'--user-data-dir={self.dir.name}', f'--window-size={WIDTH},{HEIGHT}',
                                      'about:blank'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.timeout, self.ids = timeout, itertools.count(1)
        port_file, end = Path(self.dir.name)/'DevToolsActivePort', time.time() + timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.time() > end: self.close(); raise RuntimeError('chromium did not start')
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = json.load(urllib.request.urlopen(f'http://127.0.0.1:{port}/json/list', timeout=timeout))
        page = next(t for t in targets if t['type'] == 'page')
        self.ws = websocket.create_connection(page['webSocketDebuggerUrl'], timeout=timeout, suppress_origin=True)
        self.events = []
        for m in ('Page.enable', 'Runtime.enable', 'Log.enable'): self.call(m)
        self.call('Emulation.setDeviceMetricsOverride', width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)

    def call(self, method:str, **params) -> dict:
        "Send one command; keep the events that arrive meanwhile; return its result."
        i = next(self.ids)
        self.ws.send(json.dumps({'id': i, 'method': method, 'params': params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get('id') == i:
                if 'error' in msg: raise RuntimeError(f"{method}: {msg['error']}")
                return msg['result']
            self.events.append(msg)

    def wait_for(self, event:str):
        end = time.time() + self.timeout
        while not any(e.get('method') == event for e in self.events):
            if time.time() > end: raise TimeoutError(f'no {event} within {self.timeout} s')
            self.events.append(json.loads(self.ws.recv()))

    def visit(self, page:Path) -> dict:
        "Load `page`: its first heading, console errors, images as (address, natural width), and a screenshot (PNG bytes)."
        self.events = []
        self.call('Page.navigate', url=Path(page).resolve().as_uri())
        self.wait_for('Page.loadEventFired')
        heading = self.call('Runtime.evaluate', expression="document.querySelector('h1')?.textContent || ''",
                            returnByValue=True)['result']['value']
        images = self.call('Runtime.evaluate', expression=IMAGES_JS, awaitPromise=True, returnByValue=True)['result']['value']
        self.call('Runtime.evaluate', expression='document.fonts.ready.then(() => window.scrollTo(0, 0))', awaitPromise=True)
        time.sleep(0.5)                                  # the theme's scripts settle (navigation highlight, scroll spy)
        png = base64.b64decode(self.call('Page.captureScreenshot', format='png')['data'])
        errors = [e['params']['entry']['text'] for e in self.events
                  if e.get('method') == 'Log.entryAdded' and e['params']['entry']['level'] == 'error']
        errors += [' '.join(str(a.get('value', a.get('description', ''))) for a in e['params']['args']) for e in self.events
                   if e.get('method') == 'Runtime.consoleAPICalled' and e['params']['type'] in ('error', 'assert')]
        errors += [e['params']['exceptionDetails'].get('exception', {}).get('description', e['params']['exceptionDetails']['text'])
                   for e in self.events if e.get('method') == 'Runtime.exceptionThrown']
        return {'heading': heading, 'errors': errors, 'images': [tuple(i) for i in images], 'png': png}

    def close(self):
        if getattr(self, 'ws', None): self.ws.close()
        self.proc.terminate()
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        self.dir.cleanup()

    def __enter__(self): return self
    def __exit__(self, *exc): self.close()

if __name__ == '__main__':
    if len(sys.argv) != 3: sys.exit(__doc__)
    with Browser() as b: seen = b.visit(Path(sys.argv[1]))
    Path(sys.argv[2]).write_bytes(seen['png'])
    print(f"{sys.argv[2]}: {len(seen['images'])} images, console errors: {seen['errors'] or 'none'}")
