"""Sphinx extension: the book's explanatory diagrams, rendered when a build starts.

The diagrams are code (``funlm.diagrams``, matplotlib with the bundled Korean font), not
committed pictures. On ``builder-inited`` this extension writes each of them as an SVG with its
text drawn as paths into ``book/_diagrams/`` (git-ignored), and pages show them with::

    ```{figure} /_diagrams/ch04_double_descent.svg
    :name: fig-ch04-double-descent
    :alt: 이중 하강 개념도

    캡션 (한국어).
    ```

A file whose bytes would not change is not rewritten, so an incremental build does not re-read
the pages that show it. A diagram that fails to draw fails the build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

DIAGRAMS_DIR = "_diagrams"


def render_diagrams(app: Sphinx) -> list[Path]:
    """Write every ``funlm.diagrams.DIAGRAMS`` entry to ``<srcdir>/_diagrams/<name>.svg``."""
    from funlm.diagrams import write_all

    paths = write_all(Path(app.srcdir) / DIAGRAMS_DIR)
    logger.info("funlm_diagrams: %d diagrams in %s/", len(paths), DIAGRAMS_DIR)
    return paths


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", render_diagrams)
    return {"version": "0.1.0", "parallel_read_safe": True, "parallel_write_safe": True}
