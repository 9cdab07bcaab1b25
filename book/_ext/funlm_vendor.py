"""Offline reading: MathJax and the ipywidgets HTML manager, vendored from npm at build time.

The built book must show every equation and every saved widget without reaching a CDN (a
classroom without internet opens ``make book``'s site). Out of the box Sphinx loads MathJax from
jsdelivr and myst-nb loads require.js and ``@jupyter-widgets/html-manager`` from cdnjs/jsdelivr.
This module

- downloads pinned npm packages straight from the npm registry (no ``npm`` binary needed:
  the registry's JSON gives the tarball URL and its sha512 ``integrity``, which is checked)
  into ``book/_vendor/`` (ignored by git; nothing third-party is committed), keeping only the
  files the site needs;
- as a Sphinx extension (``local_extensions`` in ``_config.yml``), makes sure those files are
  there before the build (fetching them if not) and fails with a clear message when a path
  that ``_config.yml`` configures (``mathjax_path``, ``nb_ipywidgets_js``) is not vendored.

``_config.yml`` puts ``_vendor`` in ``html_static_path``, so ``book/_vendor/mathjax/...`` is
served as ``_static/mathjax/...``; ``mathjax_path`` and ``nb_ipywidgets_js`` are paths relative
to ``_static``.

CLI (``make book-assets``)::

    python book/_ext/funlm_vendor.py [--dest book/_vendor] [--force]

The registry is ``$FUNLM_NPM_REGISTRY``, else ``$NPM_CONFIG_REGISTRY``, else
``https://registry.npmjs.org``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__version__ = "0.1.0"

VENDOR_DIR = Path(__file__).resolve().parents[1] / "_vendor"
STAMP = ".funlm-vendor.json"
DEFAULT_REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class NpmPackage:
    """One npm package: which files of its tarball (``package/<src>``) go to ``<dest>``."""

    name: str
    version: str
    dest: str  # folder under the vendor dir
    keep: tuple[str, ...]  # paths inside ``package/`` (files or folders) to copy


PACKAGES: tuple[NpmPackage, ...] = (
    # MathJax 3 (what Sphinx 7 uses): the combined TeX+MathML/CHTML component plus the pieces it
    # loads lazily (TeX extensions via autoload, CHTML woff fonts, the menu, a11y + speech).
    NpmPackage(
        "mathjax",
        "3.2.2",
        "mathjax",
        (
            "es5/tex-mml-chtml.js",
            "es5/input",
            "es5/output",
            "es5/ui",
            "es5/a11y",
            "es5/sre",
            "es5/adaptors",
            "LICENSE",
        ),
    ),
    # The ipywidgets 8 HTML manager (AMD build: base, controls and output widgets bundled, its
    # Font Awesome files next to it). myst-nb embeds saved widget state for it.
    NpmPackage(
        "@jupyter-widgets/html-manager",
        "1.0.15",
        "html-manager",
        (
            "dist/embed-amd.js",
            "dist/*.woff",
            "dist/*.woff2",
            "dist/*.ttf",
            "dist/*.eot",
            "dist/*.svg",
            "dist/embed.js.LICENSE.txt",
            "LICENSE",
        ),
    ),
    # embed-amd.js needs an AMD loader on the page.
    NpmPackage("requirejs", "2.3.8", "requirejs", ("require.js", "package.json")),
)


class VendorError(RuntimeError):
    """Vendoring failed; the message says which package and why."""


def registry_url() -> str:
    for var in ("FUNLM_NPM_REGISTRY", "NPM_CONFIG_REGISTRY", "npm_config_registry"):
        if os.environ.get(var):
            return os.environ[var].rstrip("/")
    return DEFAULT_REGISTRY


def _get(url: str, timeout: float = 120.0) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "funlm-book-vendor"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def _check_integrity(data: bytes, integrity: str, what: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in ("sha512", "sha384", "sha256", "sha1"):
        raise VendorError(f"{what}: unsupported integrity {integrity!r}")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise VendorError(f"{what}: tarball integrity mismatch ({algorithm})")


def _wanted(member: str, keep: tuple[str, ...]) -> bool:
    from fnmatch import fnmatch

    rel = member.removeprefix("package/")
    return any(rel == k or rel.startswith(k.rstrip("/") + "/") or fnmatch(rel, k) for k in keep)


def fetch_package(package: NpmPackage, dest_root: Path, registry: str | None = None) -> int:
    """Download ``package`` from the registry into ``dest_root/package.dest``; returns #files."""
    registry = registry or registry_url()
    what = f"{package.name}@{package.version}"
    meta_url = f"{registry}/{urllib.parse.quote(package.name, safe='@')}/{package.version}"
    try:
        meta = json.loads(_get(meta_url))
        dist = meta["dist"]
        data = _get(dist["tarball"])
    except (OSError, KeyError, ValueError) as error:
        raise VendorError(f"{what}: cannot download from {registry} ({error})") from error
    if dist.get("integrity"):
        _check_integrity(data, dist["integrity"], what)
    elif dist.get("shasum"):
        if hashlib.sha1(data).hexdigest() != dist["shasum"]:
            raise VendorError(f"{what}: tarball shasum mismatch")
    target = dest_root / package.dest
    tmp = Path(tempfile.mkdtemp(prefix=f".{package.dest}-", dir=dest_root))
    count = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile() and _wanted(m.name, package.keep)]
            for member in members:
                rel = Path(member.name.removeprefix("package/"))
                if rel.is_absolute() or ".." in rel.parts:
                    raise VendorError(f"{what}: unsafe path {member.name!r} in tarball")
                source = tar.extractfile(member)
                assert source is not None
                out = tmp / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(source.read())
                count += 1
        if count == 0:
            raise VendorError(f"{what}: none of {package.keep} found in the tarball")
        # Flatten the package's own layout: es5/… and dist/… are served from the folder root.
        for prefix in ("es5", "dist"):
            inner = tmp / prefix
            if inner.is_dir():
                for item in inner.iterdir():
                    shutil.move(str(item), tmp / item.name)
                inner.rmdir()
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return count


# Our own glue (not third-party, MIT), written next to require.js on every run and loaded on
# widget pages between require.js and the widget manager (``nb_ipywidgets_js``):
# 1. require.js resolves a module id to a URL relative to the *page*, and the widget manager's
#    bundled modules compute where their Font Awesome files are from that URL: ch01/page.html
#    would ask for ch01/@jupyter-widgets/html-manager/dist/<hash>.woff2 (a 404). Mapping the ids
#    to the vendored folder (relative to this script, so any page depth works) fixes that.
# 2. ipywidgets 8 typesets widget labels with the MathJax 2 call ``MathJax.Hub.Queue``; Sphinx
#    loads MathJax 3, which has no ``Hub``: an uncaught TypeError on every page with both math
#    and widgets. A small ``Hub.Queue`` that forwards to MathJax 3's ``typesetPromise`` fixes it.
GLUE_JS = "requirejs/funlm-glue.js"
_GLUE_BODY = """\
// Generated by book/_ext/funlm_vendor.py (FunLM course, MIT).
(function () {
  // 1. require.js: load the vendored widget manager's assets from _static/html-manager/.
  var here = document.currentScript && document.currentScript.src;
  if (here && typeof window.require !== "undefined") {
    var dir = new URL("../html-manager", here).href;
    var paths = { "@jupyter-widgets/html-manager/dist": dir };
    ["base", "base7", "controls", "controls7", "html-manager"].forEach(function (name) {
      paths["@jupyter-widgets/" + name] = dir + "/" + name;
    });
    window.require.config({ paths: paths });
  }
  // 2. MathJax 2's Hub.Queue(["Typeset", MathJax.Hub, element]) on top of MathJax 3.
  function shim() {
    var mj = window.MathJax;
    if (!mj || !mj.version || mj.Hub || typeof mj.typesetPromise !== "function") { return; }
    mj.Hub = {
      Queue: function () {
        var elements = [];
        Array.prototype.forEach.call(arguments, function (job) {
          if (Array.isArray(job) && job[0] === "Typeset" && job[2]) { elements.push(job[2]); }
        });
        var ready = mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
        return ready.then(function () { return mj.typesetPromise(elements); });
      }
    };
  }
  shim();
  document.addEventListener("DOMContentLoaded", shim);
  window.addEventListener("load", shim);
})();
"""


def write_glue(dest_root: Path = VENDOR_DIR) -> None:
    path = dest_root / GLUE_JS
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text("utf-8") != _GLUE_BODY:
        path.write_text(_GLUE_BODY, "utf-8")


def _expected_stamp() -> dict[str, str]:
    return {p.name: p.version for p in PACKAGES}


def is_current(dest_root: Path = VENDOR_DIR) -> bool:
    stamp = dest_root / STAMP
    try:
        return json.loads(stamp.read_text("utf-8")) == _expected_stamp()
    except (OSError, ValueError):
        return False


def ensure_vendor(dest_root: Path = VENDOR_DIR, *, force: bool = False, log: Any = None) -> bool:
    """Fetch every package unless the stamp says they are all there. True when it fetched."""
    if not force and is_current(dest_root):
        write_glue(dest_root)
        return False
    dest_root.mkdir(parents=True, exist_ok=True)
    (dest_root / STAMP).unlink(missing_ok=True)
    for package in PACKAGES:
        count = fetch_package(package, dest_root)
        message = (
            f"funlm_vendor: {package.name}@{package.version} -> {package.dest}/ ({count} files)"
        )
        (log or print)(message)
    write_glue(dest_root)
    (dest_root / STAMP).write_text(json.dumps(_expected_stamp(), indent=1), "utf-8")
    return True


# ----------------------------------------------------------------------------- Sphinx


def _configured_paths(config: Any) -> list[str]:
    paths = [str(config.mathjax_path)] if getattr(config, "mathjax_path", None) else []
    paths += [str(p) for p in (getattr(config, "nb_ipywidgets_js", None) or {})]
    return paths


def _on_config_inited(app: Any, config: Any) -> None:
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    try:
        ensure_vendor(VENDOR_DIR, log=logger.info)
    except VendorError as error:
        raise ExtensionError(
            f"funlm_vendor: {error}. The book vendors MathJax and the widget manager from npm "
            "so that it reads offline; run `make book-assets` where the npm registry is reachable "
            "(or set FUNLM_NPM_REGISTRY to a mirror)."
        ) from error
    static = [str(p) for p in (config.html_static_path or [])]
    if not any(Path(app.confdir, p).resolve() == VENDOR_DIR for p in static):
        raise ExtensionError(
            "funlm_vendor: add `_vendor` to sphinx.config.html_static_path in _config.yml "
            "(the vendored MathJax/widget files are served from _static/)."
        )
    for path in _configured_paths(config):
        if "://" in path or path.startswith("//"):
            raise ExtensionError(
                f"funlm_vendor: {path!r} in _config.yml loads from the network; the book must "
                "read offline. Point it at a vendored file (relative to _static), e.g. "
                "mathjax/tex-mml-chtml.js."
            )
        if not (VENDOR_DIR / path).is_file():
            raise ExtensionError(
                f"funlm_vendor: {path!r} (configured in _config.yml) is not in {VENDOR_DIR}; "
                f"vendored packages: {', '.join(p.dest for p in PACKAGES)}."
            )


def _drop_duplicate_scripts(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Keep the first of identical ``<script>`` entries on a page.

    Under jupyter-book 1.0.4 the inline scripts of sphinx-thebe and sphinx-togglebutton reach
    every page twice; the second ``const THEBE_JS_URL = ...`` is a JavaScript SyntaxError
    ("Identifier has already been declared") in the reader's console (tests/test_browser.py).
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        # Inline scripts come as filename None or "" depending on when they were added.
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(
            (str(k), str(v)) for k, v in attributes.items() if k != "priority"
        )))  # fmt: skip
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Any) -> dict[str, Any]:
    # Run before myst-nb/mathjax read the values (priority < 500).
    app.connect("config-inited", _on_config_inited, priority=400)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR)
    parser.add_argument("--force", action="store_true", help="fetch even when up to date")
    args = parser.parse_args(argv)
    try:
        fetched = ensure_vendor(args.dest, force=args.force)
    except VendorError as error:
        print(f"funlm_vendor: {error}", file=sys.stderr)
        return 1
    if not fetched:
        print(f"funlm_vendor: {args.dest} is up to date ({_expected_stamp()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
