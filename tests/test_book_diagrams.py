"""Korean labels in figures: the bundled font, ``use_korean_font`` and the chapter diagrams."""

from __future__ import annotations

import io
import logging
import re
import warnings
from pathlib import Path

import pytest

from funlm.diagrams import DIAGRAMS

ROOT = Path(__file__).resolve().parents[1]
FONT_DIR = ROOT / "src" / "funlm" / "data" / "fonts"
HANGUL = range(0xAC00, 0xD7A4)


def _hangul_in(text: str) -> set[str]:
    return {ch for ch in text if ord(ch) in HANGUL or 0x3131 <= ord(ch) <= 0x318E}


def test_the_bundled_font_is_small_licensed_and_has_every_hangul_syllable():
    from matplotlib.ft2font import FT2Font

    from funlm.plots import FONT_FAMILY, korean_font_path

    path = korean_font_path()
    assert path.parent == FONT_DIR
    assert path.stat().st_size <= 2 * 1024 * 1024
    licence = (FONT_DIR / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Reserved Font Name 'Source'" in licence
    font = FT2Font(str(path))
    assert font.family_name == FONT_FAMILY
    charmap = font.get_charmap()
    assert all(code in charmap for code in HANGUL)
    assert all(code in charmap for code in range(0x20, 0x7F))


def test_hangul_resolves_to_the_bundled_font(caplog):
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    from funlm.plots import FONT_FAMILY, korean_font_path, use_korean_font

    with matplotlib.rc_context():
        assert use_korean_font() == FONT_FAMILY
        assert use_korean_font() == FONT_FAMILY  # idempotent
        assert matplotlib.rcParams["font.sans-serif"].count(FONT_FAMILY) == 1
        found = font_manager.findfont(font_manager.FontProperties(), fallback_to_default=False)
        assert Path(found) == korean_font_path()
        fig = Figure(figsize=(3, 1))
        fig.text(0.05, 0.5, "보간 임계점 → 두 번째 하강 (α, β, −1)")
        fig.text(0.05, 0.2, "✔ ∑")  # not in the subset: DejaVu Sans draws them
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Glyph … missing from font(s)" is a warning
            with caplog.at_level(logging.WARNING, logger="matplotlib"):
                fig.savefig(io.BytesIO(), format="png")
        assert not [r for r in caplog.records if "findfont" in r.getMessage()]


@pytest.mark.parametrize("name", sorted(DIAGRAMS))
def test_each_diagram_renders_with_korean_text_as_paths(name, caplog):
    import matplotlib
    from matplotlib.ft2font import FT2Font
    from matplotlib.text import Text

    from funlm.plots import korean_font_path, svg_bytes

    charmap = FT2Font(str(korean_font_path())).get_charmap()
    with matplotlib.rc_context():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with caplog.at_level(logging.WARNING, logger="matplotlib"):
                fig = DIAGRAMS[name]()
                svg = svg_bytes(fig)
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    texts = " ".join(t.get_text() for t in fig.findobj(Text))
    hangul = _hangul_in(texts)
    assert hangul, f"{name} has no Korean label"
    assert all(ord(ch) in charmap for ch in hangul)
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    assert b"<text" not in svg  # text drawn as paths: the browser needs no Korean font


def test_rendering_is_byte_stable_and_leaves_unchanged_files_alone(tmp_path):
    from funlm.diagrams import write_all

    (first,) = write_all(tmp_path, ["ch04_double_descent"])
    stamp = first.stat().st_mtime_ns
    data = first.read_bytes()
    (again,) = write_all(tmp_path, ["ch04_double_descent"])
    assert again.read_bytes() == data
    assert again.stat().st_mtime_ns == stamp


def test_every_chapter_shows_its_diagram_and_the_build_renders_them():
    config = (ROOT / "book" / "_config.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s+funlm_diagrams: _ext", config, re.MULTILINE)
    figure = re.compile(r"^```\{figure\} /_diagrams/(?P<name>[\w-]+)\.svg$", re.MULTILINE)
    shown: dict[str, str] = {}
    for page in sorted((ROOT / "book").glob("ch0*/*.md")):
        for match in figure.finditer(page.read_text(encoding="utf-8")):
            shown[match.group("name")] = page.parent.name
    assert set(shown) == set(DIAGRAMS)
    for name, chapter in shown.items():
        assert chapter[:4] == name[:4], f"{name} is shown in {chapter}"
    assert [name[:4] for name in sorted(DIAGRAMS)] == [f"ch0{i}" for i in range(7)]


def test_a_missing_font_file_warns_instead_of_breaking_a_notebook(monkeypatch, tmp_path):
    import matplotlib

    from funlm import plots

    monkeypatch.setattr(plots, "_FONT_FILE", tmp_path / "absent.otf")
    with matplotlib.rc_context():
        before = list(matplotlib.rcParams["font.family"])
        with pytest.warns(UserWarning, match="absent.otf"):
            plots.use_korean_font()
        assert list(matplotlib.rcParams["font.family"]) == before
