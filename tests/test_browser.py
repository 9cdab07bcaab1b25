"""The built book as readers see it: headless Chromium on a local copy, with no internet.

The strictly built site (``built_book`` in conftest.py, one build per session) is served on
127.0.0.1 (a free port) and driven by Playwright's Python package with the system Chromium
(``/usr/bin/chromium``; Playwright's own browser download is never used). Every request to a
host other than 127.0.0.1 is blocked and reported, so a page that needs a CDN fails here, naming
the page and the URL. Checked:

- every page in ``_toc.yml`` loads; every local asset answers 200; no JavaScript console error
  or uncaught exception; no request leaves 127.0.0.1;
- a page with math markup has MathJax-typeset equations (``mjx-container``) once MathJax is done;
- Korean text is drawn with a font that has Hangul glyphs (asked from Chromium itself through
  the DevTools protocol: ``CSS.getPlatformFontsForNode`` lists the platform fonts and glyph
  counts actually used for a node's text; those fonts must cover U+AC00 according to
  fontconfig), i.e. no tofu boxes;
- the search page finds a Korean word of chapter 4 and links to a chapter-4 page, and Korean
  queries with particles ("보상 모델을", "유도 헤드가", "이중 하강은", "봉우리에서는") and glossary
  aliases ("RLHF" for 인간 피드백 강화학습) find their chapters; the page's JavaScript stemmer
  stems like the Python one that built the index (book/_ext/funlm_search.py);
- a saved ipywidgets state renders (sliders and the explorer's plot) on a chapter-1 page.

A full-page screenshot of every chapter's landing page (and of the widget page) is written to
``<build>/_build/screenshots/``.

Missing Chromium, Playwright or a Korean font is a failure with instructions, not a skip:
``make system-deps`` (``autograder/ensure_system_deps.sh``) installs them on Debian/Ubuntu.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest
import yaml

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
SEARCH_WORD = "봉우리"  # "peak" (of the double-descent curve): used only in chapter 4
SEARCH_CHAPTER = "ch04_double_descent/"
# Korean queries with particles/endings (and glossary names) -> the chapter they must find.
KOREAN_QUERIES = {
    "보상 모델을": "ch02_instructgpt/",
    "유도 헤드가": "ch03_icl/",
    "이중 하강은": "ch04_double_descent/",
    "봉우리에서는": "ch04_double_descent/",  # not in the book verbatim: only stemming finds it
    "RLHF": "ch02_instructgpt/",
    "문맥 내 학습을": "ch03_icl/",
}
WIDGET_CHAPTER = "ch01_gpt3/"
WIDGET_VIEW = 'type="application/vnd.jupyter.widget-view+json"'
MATH_MARKUP = re.compile(r'class="[^"]*\bmath\b')  # Sphinx's span/div.math for $...$ and $$...$$
INSTALL_HINT = (
    "run `make system-deps` (autograder/ensure_system_deps.sh, as root on Debian/Ubuntu: "
    "apt-get install chromium fonts-noto-cjk) and install the dev extras (`make venv`)"
)


def toc_pages(book_dir: Path) -> list[str]:
    """Every document in ``_toc.yml`` (root, chapters, sections), in reading order."""
    toc = yaml.safe_load((book_dir / "_toc.yml").read_text("utf-8"))
    pages = [toc["root"]]

    def walk(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if "file" in entry:
                pages.append(str(entry["file"]).removesuffix(".md").removesuffix(".ipynb"))
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return pages


BOOK_DIR = Path(__file__).resolve().parents[1] / "book"
PAGES = toc_pages(BOOK_DIR)


def built_page(html_dir: Path, page: str) -> str:
    """The built HTML of a TOC page; a clear failure when the build did not produce it."""
    path = html_dir / f"{page}.html"
    if not path.is_file():
        pytest.fail(f"{page} is in _toc.yml but the build produced no {path}")
    return path.read_text("utf-8")


def _chapter_of(page: str) -> str:
    return page.split("/", 1)[0] if "/" in page else page


def hangul_font_families() -> set[str]:
    """Font families fontconfig says have a glyph for U+AC00 ("가")."""
    if shutil.which("fc-list") is None:
        return set()
    out = subprocess.run(
        ["fc-list", ":charset=AC00", "family"], capture_output=True, text=True, check=False
    ).stdout
    return {name.strip() for line in out.splitlines() for name in line.split(",") if name.strip()}


# ----------------------------------------------------------------------------- fixtures


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(built_book) -> Iterator[tuple[str, Path]]:
    """(base URL, html folder): the built site on 127.0.0.1 at a free port."""
    if built_book.returncode != 0:
        pytest.fail("the strict book build failed (see test_book_builds_strictly); nothing to test")
    html = built_book.html
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", html
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless system Chromium through Playwright; fails (never skips) when it is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"the Python package `playwright` is not installed; {INSTALL_HINT}")
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found (Debian package `chromium`); {INSTALL_HINT}")
    if not hangul_font_families():
        pytest.fail(f"no installed font covers Hangul (fc-list ':charset=AC00'); {INSTALL_HINT}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def screenshots(built_book) -> Path:
    folder = built_book.out / "_build" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class PageVisit:
    """One page opened in a fresh context, with everything that went wrong recorded."""

    def __init__(self, browser: Any, base: str, page: str) -> None:
        self.name = page
        self.url = f"{base}/{page}.html"
        self.host = urlparse(base).netloc
        self.problems: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught JS error: {error}"))
        self.page.on("response", self._response)
        self.page.on(
            "requestfailed",
            lambda request: self.problems.append(
                f"request failed: {request.url} ({request.failure})"
            ),
        )

    def _route(self, route: Any) -> None:
        parsed = urlparse(route.request.url)
        if parsed.scheme in ("data", "blob", "about") or parsed.netloc == self.host:
            route.continue_()
        else:
            self.problems.append(f"request to a non-local host: {route.request.url}")
            route.abort("blockedbyclient")

    def _console(self, message: Any) -> None:
        location = message.location or {}
        if location.get("url") == f"http://{self.host}/favicon.ico":
            return  # Chromium's own favicon probe; no page links it (the book sets no favicon)
        if message.type == "error":
            self.problems.append(
                f"console error: {message.text} (at {location.get('url', '?')}:"
                f"{location.get('lineNumber', '?')})"
            )

    def _response(self, response: Any) -> None:
        parsed = urlparse(response.url)
        if parsed.path == "/favicon.ico":
            return
        if parsed.netloc == self.host and response.status != 200:
            self.problems.append(f"local asset {response.url} answered HTTP {response.status}")

    def open(self) -> PageVisit:
        response = self.page.goto(self.url, wait_until="load")
        if response is None or response.status != 200:
            self.problems.append(f"page itself answered {response and response.status}")
        self.page.wait_for_load_state("networkidle")
        return self

    def report(self) -> str:
        return f"{self.name}.html ({self.url}):\n  " + "\n  ".join(self.problems)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, site) -> Iterator[Any]:
    opened: list[PageVisit] = []

    def _visit(page: str) -> PageVisit:
        opened.append(PageVisit(browser, site[0], page).open())
        return opened[-1]

    yield _visit
    for one in opened:
        one.close()


def _wait_for_mathjax(page: Any) -> int:
    """Wait until MathJax (if loaded) has typeset the page; the number of typeset equations."""
    page.wait_for_function("() => window.MathJax !== undefined", timeout=30_000)
    ready = "() => window.MathJax.startup !== undefined && window.MathJax.startup.promise"
    page.wait_for_function(ready, timeout=30_000)
    page.evaluate("() => window.MathJax.startup.promise")
    return page.locator("mjx-container").count()


# ----------------------------------------------------------------------------- tests


def test_toc_lists_the_chapters():
    assert "intro" in PAGES and any(p.startswith("ch04_") for p in PAGES), PAGES


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_offline(page, visit, site, screenshots):
    """HTTP 200 for the page and its local assets, no console errors, nothing off 127.0.0.1."""
    html = built_page(site[1], page)
    opened = visit(page)
    if MATH_MARKUP.search(html):
        typeset = _wait_for_mathjax(opened.page)
        if typeset == 0:
            opened.problems.append("page has math markup but MathJax typeset no equation")
    if page == "intro" or page.endswith("/index"):
        opened.page.screenshot(path=str(screenshots / f"{_chapter_of(page)}.png"), full_page=True)
    assert not opened.problems, opened.report()


def test_chapters_with_math_are_typeset(visit, site):
    """Every chapter whose pages contain math has at least one MathJax-typeset equation."""
    html_dir = site[1]
    math_pages: dict[str, str] = {}
    for page in PAGES:
        if MATH_MARKUP.search(built_page(html_dir, page)):
            math_pages.setdefault(_chapter_of(page), page)
    assert math_pages, "no page of the book has math markup: the check below would be empty"
    missing = []
    for chapter, page in math_pages.items():
        opened = visit(page)
        if _wait_for_mathjax(opened.page) < 1:
            missing.append(f"{chapter} ({page}.html)")
        src = opened.page.evaluate(
            "() => [...document.scripts].map(s => s.src).filter(s => s.includes('mathjax'))"
        )
        if not src or any(urlparse(s).netloc != urlparse(site[0]).netloc for s in src):
            missing.append(f"{page}.html loads MathJax from {src}, not from the site")
    assert not missing, "MathJax did not typeset: " + ", ".join(missing)


@pytest.mark.parametrize("page", ["intro", "ch04_double_descent/index"])
def test_korean_is_drawn_with_a_hangul_font(page, visit):
    """The platform fonts Chromium used for a Korean paragraph have Hangul glyphs (no tofu)."""
    families = hangul_font_families()
    opened = visit(page)
    paragraphs = opened.page.locator("main p, article p")
    index = next(
        (i for i in range(paragraphs.count()) if HANGUL.search(paragraphs.nth(i).inner_text())),
        None,
    )
    assert index is not None, f"{page}.html: no paragraph with Korean text"
    text = paragraphs.nth(index).inner_text()
    paragraphs.nth(index).evaluate("p => p.setAttribute('data-funlm-font-check', '1')")
    cdp = opened.context.new_cdp_session(opened.page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-funlm-font-check]"})
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    hangul_glyphs = sum(f["glyphCount"] for f in fonts if f["familyName"] in families)
    own_text = opened.page.evaluate(
        "() => [...document.querySelector('[data-funlm-font-check]').childNodes]"
        ".filter(n => n.nodeType === 3).map(n => n.textContent).join('')"
    )
    expected = len(HANGUL.findall(own_text))
    assert expected > 0, f"{page}.html: the paragraph's own text has no Hangul: {text[:80]!r}"
    assert hangul_glyphs >= expected, (
        f"{page}.html: {expected} Hangul syllables drawn, but fonts covering Hangul drew only "
        f"{hangul_glyphs} glyphs (fonts used: {fonts}; Hangul fonts installed: {sorted(families)})"
    )


def test_search_finds_a_korean_word_of_chapter_4(visit):
    opened = visit("search")
    opened.page.goto(opened.url + f"?q={SEARCH_WORD}", wait_until="load")
    results = opened.page.locator("ul.search li a")
    results.first.wait_for(timeout=30_000)
    hrefs = [results.nth(i).get_attribute("href") or "" for i in range(results.count())]
    assert any(SEARCH_CHAPTER in href for href in hrefs), (
        f"searching {SEARCH_WORD!r} gave {hrefs}, no page of {SEARCH_CHAPTER}"
    )
    assert not opened.problems, opened.report()


def _search(visit: Any, query: str) -> tuple[Any, list[str]]:
    opened = visit("search")
    opened.page.goto(opened.url + "?q=" + quote(query), wait_until="load")
    results = opened.page.locator("ul.search li a")
    results.first.wait_for(timeout=30_000)
    return opened, [results.nth(i).get_attribute("href") or "" for i in range(results.count())]


@pytest.mark.parametrize("query", list(KOREAN_QUERIES))
def test_korean_search_strips_particles_and_knows_the_glossary(query, visit, site):
    """Particles and endings are stripped at index and query time; glossary names are aliases."""
    if query == "봉우리에서는":  # the test means something only if the word form is not indexed
        text = (site[1] / "searchindex.js").read_text("utf-8")
        index = json.loads(text[len("Search.setIndex(") : -1])
        assert "봉우리" in index["terms"], "the stem itself is indexed"
        assert query not in index["terms"], f"{query!r} is indexed verbatim; pick another form"
    opened, hrefs = _search(visit, query)
    chapter = KOREAN_QUERIES[query]
    assert any(chapter in href for href in hrefs), f"searching {query!r} gave {hrefs}"
    assert not opened.problems, opened.report()


def test_search_pages_stem_like_the_index(visit):
    """The stemmer the browser runs (language_data.js) == the one that built searchindex.js."""
    import sys

    sys.path.insert(0, str(BOOK_DIR / "_ext"))
    from funlm_search import SearchKorean, _source_texts, search_options

    opened = visit("search")
    opened.page.wait_for_function("() => typeof FunlmKorean !== 'undefined'", timeout=30_000)
    words = sorted({w for t in _source_texts(BOOK_DIR) for w in re.findall(r"\w+", t)})
    in_browser = opened.page.evaluate("(words) => words.map(FunlmKorean.stem)", words)
    language = SearchKorean(search_options(BOOK_DIR))  # as the build configured it
    differ = [(w, b) for w, b in zip(words, in_browser, strict=True) if language.stem(w) != b]
    assert len(words) > 1000
    assert not differ, differ[:20]
    assert not opened.problems, opened.report()


def test_saved_widget_renders_on_chapter_1(visit, site, screenshots):
    html_dir = site[1]
    pages = [
        p for p in PAGES if p.startswith(WIDGET_CHAPTER) and WIDGET_VIEW in built_page(html_dir, p)
    ]
    assert pages, (
        f"no page of {WIDGET_CHAPTER} embeds a saved widget view: the executed notebook lost its "
        "widget state (nbclient store_widget_state / jupyter-cache metadata `widgets`)"
    )
    page = pages[0]
    opened = visit(page)
    widgets = opened.page.locator(".cell_output .jupyter-widgets.widget-slider")
    widgets.first.wait_for(state="visible", timeout=30_000)
    assert widgets.count() >= 1
    plot = opened.page.locator(".cell_output .widget-output img")  # the explorer's saved plot
    plot.first.wait_for(state="visible", timeout=30_000)
    box = plot.first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, f"{page}.html: plot is {box}"
    opened.page.screenshot(path=str(screenshots / "ch01_widget.png"), full_page=True)
    assert not opened.problems, opened.report()
