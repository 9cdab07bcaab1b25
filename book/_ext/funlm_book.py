"""Sphinx extension for the FunLM book: the ``exercise`` directive.

Usage in a MyST page::

    ```{exercise} ch00_orientation
    이 장의 실습 노트북입니다. (optional body text)
    ```

renders an admonition titled "실습: ch00_orientation" with three links to
``exercises/ch00_orientation/ch00_orientation.ipynb``:

- "Colab에서 열기"   https://colab.research.google.com/github/OWNER/REPO/blob/BRANCH/exercises/...
- "Binder에서 열기"  https://mybinder.org/v2/gh/OWNER/REPO/BRANCH?labpath=exercises/...
- "GitHub에서 보기"  https://github.com/OWNER/REPO/blob/BRANCH/exercises/...

Nothing here hard-codes the repository. OWNER/REPO/BRANCH come from the book's one repository
setting (``repository.url`` / ``repository.branch`` in ``_config.yml``), which Jupyter Book
passes to Sphinx as ``html_theme_options["repository_url"]`` and
``html_theme_options["repository_branch"]``. The Colab and Binder hosts come from
``html_theme_options["launch_buttons"]["colab_url"/"binderhub_url"]`` (``launch_buttons`` in
``_config.yml``), with the public services as defaults. The folder of exercises is
``<repository root>/exercises``; the repository root is the book folder minus
``html_theme_options["path_to_docs"]`` (``repository.path_to_book``).

The extension also adds the MyST substitutions ``{{ repository_url }}`` and
``{{ repository_branch }}`` (unless ``_config.yml`` sets them), so pages never repeat the URL.

The build fails (``ExtensionError``) when the repository setting is missing or not a GitHub URL,
or when the named exercise notebook does not exist, so a link can never point at nothing.

Option ``:notebook:`` picks another notebook of the same assignment folder
(default ``<name>.ipynb``).

It also registers the pybtex style ``funlm`` (``bibtex_default_style: funlm`` in
``_config.yml``): the reference list is labelled "Brown et al., 2020", like the author-year
citations in the text, sorted by author and year, and titles keep the capitalisation written
in ``references.bib`` (the stock styles lower-case "SmolLM2: When Smol Goes Big").
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlparse

from docutils import nodes
from docutils.parsers.rst import directives
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import field, sentence
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

__version__ = "0.1.0"

EXERCISES_DIR = "exercises"
DEFAULT_BRANCH = "main"
DEFAULT_COLAB = "https://colab.research.google.com"
DEFAULT_BINDER = "https://mybinder.org"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def parse_github_url(url: str) -> tuple[str, str]:
    """``https://github.com/OWNER/REPO[.git][/]`` -> ``(OWNER, REPO)``."""
    parsed = urlparse(url.strip())
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.netloc.lower() not in ("github.com", "www.github.com") or len(parts) != 2:
        raise ExtensionError(
            f"funlm_book: repository.url {url!r} in _config.yml is not a GitHub repository URL "
            "(https://github.com/OWNER/REPO); the exercise links need one."
        )
    owner, repo = parts
    return owner, repo.removesuffix(".git")


def _theme_options(config: Config) -> dict[str, Any]:
    return dict(config.html_theme_options or {})


def execution_cache_dir(outdir: Path, profile: str | None = None) -> Path:
    """``_build/.jupyter_cache-<profile>`` beside the HTML output (profile from FUNLM_PROFILE)."""
    profile = profile or os.environ.get("FUNLM_PROFILE") or "cpu"
    return outdir.parent / f".jupyter_cache-{profile}"


def _on_config_inited(app: Sphinx, config: Config) -> None:
    """Derive ``funlm_exercise_links`` from the repository setting, once per build.

    The value is registered with ``rebuild="env"``, so changing ``repository.url`` or
    ``repository.branch`` re-reads every page and no cached page keeps an old link.
    """
    options = _theme_options(config)
    url = options.get("repository_url")
    if not url:
        raise ExtensionError(
            "funlm_book: set repository.url in book/_config.yml "
            "(html_theme_options['repository_url'] is empty); the exercise links are built from it."
        )
    owner, repo = parse_github_url(str(url))
    launch = options.get("launch_buttons") or {}
    branch = str(options.get("repository_branch") or DEFAULT_BRANCH)
    config.funlm_exercise_links = {
        "owner": owner,
        "repo": repo,
        "branch": branch,
        "path_to_docs": str(options.get("path_to_docs") or ""),
        "colab_url": str(launch.get("colab_url") or DEFAULT_COLAB).rstrip("/"),
        "binderhub_url": str(launch.get("binderhub_url") or DEFAULT_BINDER).rstrip("/"),
    }
    # One execution cache per profile: jupyter-cache keys a notebook on its code, not on
    # FUNLM_PROFILE, so outputs executed at one profile's sizes must not be reused for another.
    if hasattr(config, "nb_execution_cache_path") and not config.nb_execution_cache_path:
        config.nb_execution_cache_path = str(execution_cache_dir(Path(app.outdir)))
    # Prose can say {{ repository_url }} / {{ repository_branch }} instead of repeating the URL.
    if hasattr(config, "myst_substitutions"):
        substitutions = dict(config.myst_substitutions or {})
        substitutions.setdefault("repository_url", f"https://github.com/{owner}/{repo}")
        substitutions.setdefault("repository_branch", branch)
        config.myst_substitutions = substitutions


def repository_root(srcdir: Path, path_to_docs: str) -> Path:
    """The repository root: the book folder minus ``path_to_docs`` (its parent if unset)."""
    depth = len([p for p in PurePosixPath(path_to_docs).parts if p not in (".", "/")])
    return srcdir.parents[depth - 1] if depth else srcdir.parent


def exercise_urls(links: dict[str, str], notebook_path: str) -> dict[str, str]:
    """The three launch/view URLs for ``notebook_path`` (relative to the repository root)."""
    slug = f"{links['owner']}/{links['repo']}"
    branch = links["branch"]
    return {
        "colab": f"{links['colab_url']}/github/{slug}/blob/{branch}/{notebook_path}",
        "binder": f"{links['binderhub_url']}/v2/gh/{slug}/{branch}?labpath={notebook_path}",
        "github": f"https://github.com/{slug}/blob/{branch}/{notebook_path}",
    }


class ExerciseDirective(SphinxDirective):
    """``{exercise} NAME``: links to ``exercises/NAME/NAME.ipynb`` on Colab, Binder and GitHub."""

    required_arguments = 1
    optional_arguments = 0
    final_argument_whitespace = False
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "notebook": directives.unchanged_required,
        "class": directives.class_option,
    }

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0].strip()
        location = f"{self.env.docname}:{self.lineno}"
        if not _NAME.match(name):
            raise ExtensionError(f"funlm_book: {location}: bad exercise name {name!r}")
        notebook = self.options.get("notebook", f"{name}.ipynb")
        if "/" in notebook or not notebook.endswith(".ipynb"):
            raise ExtensionError(
                f"funlm_book: {location}: :notebook: must be a file name ending in .ipynb "
                f"inside {EXERCISES_DIR}/{name}/, got {notebook!r}"
            )

        links = self.config.funlm_exercise_links
        root = repository_root(Path(self.env.srcdir), links["path_to_docs"])
        folder = root / EXERCISES_DIR / name
        notebook_file = folder / notebook
        # Re-read this page when the notebook appears, changes or goes away.
        self.env.note_dependency(str(notebook_file))
        if not folder.is_dir():
            raise ExtensionError(
                f"funlm_book: {location}: exercise folder {EXERCISES_DIR}/{name}/ does not exist "
                f"(looked in {folder}). Generate it with `make exercises` or remove the directive."
            )
        if not notebook_file.is_file():
            raise ExtensionError(
                f"funlm_book: {location}: exercise notebook {EXERCISES_DIR}/{name}/{notebook} "
                f"does not exist (looked in {notebook_file})."
            )

        urls = exercise_urls(links, f"{EXERCISES_DIR}/{name}/{notebook}")
        admonition = nodes.admonition(
            classes=["funlm-exercise", "tip", *self.options.get("class", [])]
        )
        self.set_source_info(admonition)
        title_text = f"실습: {name}"
        textnodes, messages = self.state.inline_text(title_text, self.lineno)
        title = nodes.title(title_text, "", *textnodes)
        self.set_source_info(title)
        admonition += title
        admonition += messages
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, admonition)

        items = nodes.bullet_list(classes=["funlm-exercise-links"])
        for key, label in (
            ("colab", "Colab에서 열기"),
            ("binder", "Binder에서 열기"),
            ("github", "GitHub에서 보기"),
        ):
            reference = nodes.reference(
                "", label, refuri=urls[key], internal=False, classes=[f"funlm-{key}"]
            )
            items += nodes.list_item("", nodes.paragraph("", "", reference))
        admonition += items
        return [admonition]


# ----------------------------------------------------------------------------- bibliography


def _surname(person: Any) -> str:
    latex = " ".join([*person.prelast_names, *person.last_names])
    return Text.from_latex(latex).render_as("text")


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels "Kaplan et al., 2020", "Bradley and Terry, 1952"; "2023a/b" when two collide."""

    def format_label(self, entry: Any) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        if not people:
            who = entry.fields.get("key", entry.key)
        elif len(people) == 1:
            who = _surname(people[0])
        elif len(people) == 2:
            who = f"{_surname(people[0])} and {_surname(people[1])}"
        else:
            who = f"{_surname(people[0])} et al."
        return f"{who}, {entry.fields.get('year', 'n.d.')}"

    def format_labels(self, sorted_entries: Any) -> Any:
        labels = [self.format_label(entry) for entry in sorted_entries]
        total = {label: labels.count(label) for label in labels}
        seen: dict[str, int] = {}
        for label in labels:
            if total[label] == 1:
                yield label
            else:
                seen[label] = seen.get(label, 0) + 1
                yield label + chr(ord("a") + seen[label] - 1)


class FunlmBibStyle(UnsrtStyle):
    """unsrt, sorted by author/year/title, author-year labels, titles as written."""

    default_label_style = "funlm_author_year"
    default_sorting_style = "author_year_title"

    def format_title(self, e: Any, which_field: str, as_sentence: bool = True) -> Any:
        formatted_title = field(which_field)
        return sentence[formatted_title] if as_sentence else formatted_title


def _register_bib_style() -> None:
    register_plugin("pybtex.style.labels", "funlm_author_year", AuthorYearLabelStyle, force=True)
    register_plugin("pybtex.style.formatting", "funlm", FunlmBibStyle, force=True)


# ----------------------------------------------------------------------------- setup


def setup(app: Sphinx) -> dict[str, Any]:
    _register_bib_style()
    app.add_config_value("funlm_exercise_links", {}, "env", [dict])
    app.connect("config-inited", _on_config_inited)
    app.add_directive("exercise", ExerciseDirective)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
