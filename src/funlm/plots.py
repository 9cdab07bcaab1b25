"""Matplotlib with Korean labels: the course's bundled font.

Matplotlib's default font (DejaVu Sans) has no Hangul, so a Korean label prints as empty boxes
and a "Glyph … missing from font(s)" warning. The package ships a small Korean font,
``data/fonts/FunLMSansKR-Regular.otf`` (a subset of Noto Sans CJK KR under the SIL Open Font
License; see ``data/fonts/OFL.txt`` and ``build_subset.py`` there), so figures look the same on
a laptop, on Colab and in the book build without any system font::

    from funlm.plots import use_korean_font
    use_korean_font()
    plt.title("보간 임계점")  # Hangul from the bundled font, Latin too

The bundled family comes first and DejaVu Sans (shipped with matplotlib) second, so a symbol
the subset lacks (✔, ∑) falls back per glyph; it also heads the ``sans-serif`` list, for code
that asks for the generic family. Importing this module does not import matplotlib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["FONT_FAMILY", "korean_font_path", "svg_bytes", "use_korean_font"]

FONT_FAMILY = "FunLM Sans KR"
FALLBACK_FAMILY = "DejaVu Sans"
_FONT_FILE = Path(__file__).resolve().parent / "data" / "fonts" / "FunLMSansKR-Regular.otf"


def korean_font_path() -> Path:
    """The bundled Korean font file (``FileNotFoundError`` if the package lacks it)."""
    if not _FONT_FILE.is_file():
        raise FileNotFoundError(
            f"{_FONT_FILE} is missing; reinstall funlm or rebuild it with "
            "src/funlm/data/fonts/build_subset.py"
        )
    return _FONT_FILE


def _register() -> None:
    from matplotlib import font_manager

    path = str(korean_font_path())
    if not any(entry.fname == path for entry in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)


def use_korean_font() -> str:
    """Make the bundled Korean font matplotlib's first font; return its family.

    Safe to call more than once. Changes ``matplotlib.rcParams`` for the whole process (as
    ``plt.style.use`` does); wrap the call in ``matplotlib.rc_context()`` to limit it. If the
    font file is missing (an install without the package's data files) it warns and changes
    nothing.
    """
    import matplotlib

    try:
        _register()
    except FileNotFoundError as error:  # an install without package data: say so, keep going
        import warnings

        warnings.warn(f"{error}; Korean labels will not render", stacklevel=2)
        return str(matplotlib.rcParams["font.family"][0])
    sans = [name for name in matplotlib.rcParams["font.sans-serif"] if name != FONT_FAMILY]
    matplotlib.rcParams["font.sans-serif"] = [FONT_FAMILY, *sans]
    # Per-glyph fallback runs over the families in font.family (a generic name resolves to one
    # font), so the fallback is named explicitly.
    matplotlib.rcParams["font.family"] = [FONT_FAMILY, FALLBACK_FAMILY]
    return FONT_FAMILY


def svg_bytes(fig: Any) -> bytes:
    """``fig`` as a self-contained SVG: text drawn as paths, the same bytes on every run.

    Text as paths means the reader's browser needs no Korean font; a fixed hash salt and no
    date keep a re-render byte-identical, so a rebuild does not see a changed file.
    """
    import io

    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "funlm"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buffer.getvalue()
