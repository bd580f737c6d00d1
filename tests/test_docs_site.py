"""The built documentation site, opened in a real browser (headless Chromium).

The site is built by ``sphinx-build -W -b html docs docs/_build/html`` (the README's command;
``.ci/run`` builds it before the tests). This module builds nothing: it serves
``docs/_build/html`` on 127.0.0.1 (an ephemeral port), opens the home page, the lecture
walkthrough, one API page and the figure gallery in headless Chromium driven by selenium,
and checks on each page that

- every image has loaded (``naturalWidth > 0``),
- every link to the same origin answers HTTP 200,
- the mathematics is rendered by MathJax (``mjx-container`` elements, no ``mjx-merror``),
- every resource the page loaded came from the local server (nothing from the internet),
- the browser console has no error.

It skips, saying why, when the built site, Chromium, chromedriver or selenium is missing.
With ``HEAVYBALL_SCREENSHOTS=DIR`` it also saves a screenshot of each page into ``DIR``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[1] / "docs" / "_build" / "html"
PAGES = {
    "home": "index.html",
    "walkthrough": "walkthrough/walkthrough.html",
    "api": "reference/generated/heavyball.SGD.html",
    "gallery": "gallery/index.html",
}
#: pages whose body has mathematics that MathJax must render
MATH_PAGES = {"home", "walkthrough", "api"}
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT = 60  # seconds for a page and its mathematics: MathJax typesets the walkthrough in ~1 s here

pytestmark = pytest.mark.browser


def _which(names) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a request the browser abandoned (a closed connection) is not a failure of the site


@contextlib.contextmanager
def _serve(directory: Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (SITE / "index.html").is_file():
        pytest.skip(f"the documentation site is not built ({SITE} has no index.html): run the README's docs command")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the `docs` extra)")
    chromium = _which(CHROMIUM)
    driver_path = _which(("chromedriver",))
    if chromium is None or driver_path is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver_path)  # no driver download
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(TIMEOUT)
    driver.set_script_timeout(TIMEOUT)
    try:
        with _serve(SITE) as origin:
            yield driver, origin
    finally:
        driver.quit()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # the local server only
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


_WAIT_FOR_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach((img) => { img.loading = "eager"; });
Promise.all(images.map((img) => img.decode().catch(() => null))).then(() =>
  done(images.map((img) => [img.currentSrc || img.src, img.naturalWidth])));
"""

_WAIT_FOR_MATH = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup) { done(null); return; }
MathJax.startup.promise.then(() => done([
  document.querySelectorAll("mjx-container").length,
  document.querySelectorAll("mjx-merror").length,
  document.querySelectorAll(".math").length,
])).catch((err) => done(["error", String(err)]));
"""


@pytest.mark.parametrize("page", list(PAGES))
def test_page_in_browser(browser, page):
    driver, origin = browser
    url = urllib.parse.urljoin(origin, PAGES[page])
    driver.get_log("browser")  # drop what earlier pages left
    driver.get(url)
    assert driver.execute_script("return document.readyState") == "complete"
    assert driver.title, f"{page}: no title"

    images = driver.execute_async_script(_WAIT_FOR_IMAGES)
    broken = [src for src, width in images if not width]
    assert not broken, f"{page}: images that did not load: {broken}"

    math = driver.execute_async_script(_WAIT_FOR_MATH)
    if page in MATH_PAGES:
        assert math is not None, f"{page}: MathJax was not loaded"
        assert math[0] != "error", f"{page}: MathJax failed: {math[1]}"
        rendered, errors, sources = math
        assert rendered >= sources > 0, f"{page}: {sources} formulas, {rendered} rendered by MathJax"
        assert errors == 0, f"{page}: {errors} formulas with TeX errors"
    else:
        rendered = 0 if math is None else math[0]

    hrefs = driver.execute_script("return Array.from(document.querySelectorAll('a[href]'), (a) => a.href)")
    internal = sorted({href.split("#", 1)[0] for href in hrefs if href.startswith(origin)})
    bad = {href: code for href in internal if (code := _status(href)) != 200}
    assert not bad, f"{page}: internal links that do not resolve: {bad}"

    resources = driver.execute_script("return performance.getEntriesByType('resource').map((r) => r.name)")
    outside = [name for name in resources if not name.startswith(origin) and not name.startswith("data:")]
    assert not outside, f"{page}: resources loaded from outside the site: {outside}"

    console = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert not console, f"{page}: console errors: {console}"

    shots = os.environ.get("HEAVYBALL_SCREENSHOTS")
    if shots:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, min(max(height, 800), 4000))
        Path(shots).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(shots) / f"{page}.png"))
        driver.set_window_size(1280, 1000)
    print(
        f"{page}: {len(images)} images loaded, {len(internal)} internal links resolve (of {len(hrefs)} links),"
        f" {rendered} formulas rendered, {len(resources)} resources all local, no console error"
    )
