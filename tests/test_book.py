"""The book builds strictly (warnings are errors), executing its demo notebooks (grade profile).

The build itself happens once per session in the ``built_book`` fixture (conftest.py), which
tests/test_browser.py shares.
"""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_book_builds_strictly(built_book):
    if built_book.prebuilt:
        pytest.skip("FUNLM_BOOK_PREBUILT is set: this session reused a build, it did not build")
    assert built_book.returncode == 0, built_book.log
    html = built_book.html
    assert (html / "index.html").is_file()
    assert (html / "ch00_intro" / "index.html").is_file()

    from funlm.diagrams import DIAGRAMS

    for name in DIAGRAMS:  # rendered at build start (book/_ext/funlm_diagrams.py), then shown
        assert (html / "_images" / f"{name}.svg").is_file(), name


@pytest.mark.slow
def test_built_book_reads_offline(built_book):
    """MathJax and the widget manager are served by the site itself (vendored from npm)."""
    assert built_book.returncode == 0, built_book.log
    static = built_book.html / "_static"
    assert (static / "mathjax" / "tex-mml-chtml.js").is_file()
    assert (static / "html-manager" / "embed-amd.js").is_file()
    assert (static / "requirejs" / "require.js").is_file()
    for page in built_book.html.rglob("*.html"):
        text = page.read_text("utf-8")
        for cdn in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "unpkg.com/@jupyter-widgets"):
            assert f'src="https://{cdn}' not in text, f"{page} loads a script from {cdn}"
