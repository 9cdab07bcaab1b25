"""What a reader reads: the prose of book pages and exercise text, and two checks on it.

The book's rule is that no measured number is typed by hand: a measured number comes from a
record in ``results/repro/*.json`` through the ``{repro}`` role, and a number quoted from a
paper is listed, with its citation, in the chapter folder's ``paper_numbers.yml``. This module
finds the numbers that break the rule (``tests/test_book_numbers.py``) and the bold text that
Korean style or CommonMark gets wrong (``tests/test_book_style.py``). It needs no Sphinx.

**Prose** is the Markdown of ``book/**/*.md``, the markdown cells of ``book/**/*.ipynb`` and
the markdown cells of ``solutions/*/*.ipynb`` (exercise text), minus what is not prose:

- fenced code and code-like directives (```` ```python ````, ```` ```{code-cell} ````,
  ``{math}``), display math (``$$ … $$``), inline math (``$…$``), code spans, every MyST role
  (``{repro}`…```, ``{cite}`…```, ``{doc}`…```), substitutions (``{{ … }}``), URLs and link
  targets, HTML tags and comments, MyST comments (``% …``), targets (``(label)=``), front
  matter and directive options (``:width: 80%``), directive arguments that are paths;
- version numbers and names: ``1.2.3``, ``Python 3.11``, ``nbgrader 0.9``, ``CC BY 4.0``,
  ``v1.2``, ``GPT-3.5``, ``SmolLM2-1.7B``; references such as ``Table 2.1``/``그림 3.2``;
- the confidence level of an interval (``95 % 구간``, ``95% 신뢰구간``).

A **typed number** is then a decimal number (``0.55``, ``1.3B``, ``-0.02``) or a percentage
(``73%``, ``12 %``, ``1.7%p``, ``50퍼센트``) left in the prose. Integers are not typed numbers
(counts, years, sizes written in Korean units such as ``1750억``). Settings and constants that
are not measurements belong in math (``$\\beta = 0.1$``) or code (``temperature=0.7``).

Run ``python book/_ext/funlm_prose.py`` from the repository root to list every typed number
and style problem.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PAPER_NUMBERS_FILE",
    "Hit",
    "PaperNumber",
    "bib_keys",
    "bold_problems",
    "cited_keys",
    "load_paper_numbers",
    "number_value",
    "page_cites",
    "page_hits",
    "page_markdown",
    "pages",
    "paper_number_problems",
    "prose_lines",
    "strip_inline",
    "typed_numbers",
    "unlisted_hits",
]

PAPER_NUMBERS_FILE = "paper_numbers.yml"
SKIP_DIRS = {"_build", "_vendor", "_diagrams", ".ipynb_checkpoints", "_ext", "_static"}

# Directives whose body is not prose (code, math, raw output, generated lists).
CODE_DIRECTIVES = {
    "code", "code-block", "code-cell", "sourcecode", "literalinclude", "math", "raw",
    "eval-rst", "mermaid", "graphviz", "bibliography", "toctree", "tableofcontents", "include",
}  # fmt: skip
# Directives whose argument is a title (prose); for the others it is a path or a name.
TITLED_DIRECTIVES = {
    "admonition", "attention", "caution", "danger", "dropdown", "error", "hint", "important",
    "margin", "note", "seealso", "sidebar", "tip", "topic", "warning", "card", "tab-item",
}  # fmt: skip

_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,}|:{3,})\s*(?:\{(?P<name>[^}\s]+)\})?(?P<rest>.*)$")
_OPTION = re.compile(r"^\s*:[\w-]+:(\s|$)")
_TARGET = re.compile(r"^\s*\([\w:.-]+\)=\s*$")
_ROLE = re.compile(r"\{[^{}\s`]+\}(?P<ticks>`+).*?(?P=ticks)")
_SUBSTITUTION = re.compile(r"\{\{.*?\}\}")
_CODE_SPAN = re.compile(r"(?P<ticks>`+)(?!`).*?(?<!`)(?P=ticks)(?!`)")
_INLINE_MATH = re.compile(r"\$(?!\s)[^$\n]*?(?<!\s)\$|\\\(.*?\\\)")
_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<(?:https?|mailto|ftp):[^>\s]*>")
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+|\b[\w.-]+@[\w-]+\.[\w.]+")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>\n]*>")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)

_DOTTED = re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?!\.?\d)")  # 1.2.3, 2024.05.01
_PERCENT = re.compile(
    r"(?<![\w.,])(?P<value>[-−+]?\d+(?:,\d{3})*(?:\.\d+)?)\s*(?P<unit>%p|%|％|퍼센트|percent)"
)
_DECIMAL = re.compile(r"(?<![\d.,])(?P<value>[-−+]?\d+(?:,\d{3})*\.\d+)")
_CONFIDENCE = re.compile(r"^\s*(?:신뢰|구간|CI\b|confidence|interval)", re.IGNORECASE)
_NAME_BEFORE = re.compile(r"[A-Za-z][\w]*-$|[A-Za-z]$")  # GPT-3.5, SmolLM2-1.7B, v1.2
_VERSION_BEFORE = re.compile(
    r"(?:\b(?:python3?|pytorch|torch|cuda|nbgrader|jupyter[- ]?book|jupyterlab|jupyter|sphinx|"
    r"mathjax|numpy|node|npm|ubuntu|debian|transformers|ipywidgets|matplotlib|scikit-learn|"
    r"cc[- ]by(?:-sa|-nc|-nd)*|apache|gpl|lgpl|ofl|version|release|table|figure|fig\.|"
    r"section|eq\.|appendix)|(?:^|\s)(?:버전|릴리스|표|그림|절|식|부록)|§)\s*$",
    re.IGNORECASE,
)
_VERSION_AFTER = re.compile(r"^\s*(?:버전|판|절)")


@dataclass(frozen=True)
class Hit:
    """One typed number: where it is and how it was written."""

    page: str  # path relative to the repository root
    where: str  # "line 12" or "cell 3, line 2"
    number: str  # as written, e.g. "0.55" or "73%"
    value: str  # the digits alone, e.g. "0.55" or "73"
    context: str

    def __str__(self) -> str:
        return f"{self.page} ({self.where}): {self.number!r} in …{self.context}…"


@dataclass(frozen=True)
class PaperNumber:
    """One entry of a ``paper_numbers.yml``: a number quoted from a paper, and its source."""

    number: str
    cite: str
    page: str  # path relative to the repository root
    what: str
    source: str  # the yml file, relative to the repository root


# ----------------------------------------------------------------------------- pages


def pages(root: Path) -> list[Path]:
    """Every book page and every exercise source notebook, sorted."""
    found = []
    for path in sorted((root / "book").rglob("*")):
        if path.suffix not in (".md", ".ipynb") or not path.is_file():
            continue
        if SKIP_DIRS.intersection(path.relative_to(root / "book").parts[:-1]):
            continue
        found.append(path)
    found += sorted((root / "solutions").glob("*/*.ipynb"))
    return found


def page_markdown(path: Path) -> list[tuple[str, str]]:
    """``(where, markdown)`` blocks: the whole file, or each markdown cell of a notebook."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return [("", text)]
    blocks = []
    for index, cell in enumerate(json.loads(text).get("cells", [])):
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            blocks.append(
                (f"cell {index}", "".join(source) if isinstance(source, list) else source)
            )
    return blocks


# ----------------------------------------------------------------------------- prose


def prose_lines(markdown: str, *, keep_inline: bool = False) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of the prose lines of one Markdown block (1-based numbers).

    Block-level non-prose (fences, math blocks, options, comments) is dropped here; inline
    non-prose is removed by :func:`strip_inline` unless ``keep_inline``.
    """
    markdown = _HTML_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), markdown)
    lines = markdown.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":  # front matter
        for end in range(1, len(lines)):
            if lines[end].strip() == "---":
                start = end + 1
                break
    skip_until: tuple[str, int] | None = None  # inside a code fence: its char and length
    directives: list[tuple[str, int]] = []  # open prose directives: fence char and length
    math_block = False
    options_open = False  # right after a directive's opening line
    for number in range(start, len(lines)):
        line = lines[number]
        stripped = line.strip()
        if skip_until is not None:
            char, length = skip_until
            if stripped and set(stripped) == {char} and len(stripped) >= length:
                skip_until = None
            continue
        if math_block:
            if stripped.endswith("$$"):
                math_block = False
            continue
        if options_open:
            if _OPTION.match(line):
                continue
            options_open = False
            if stripped == "---":  # YAML-style options block
                skip_until = ("-", 3)
                continue
        fence = _FENCE.match(line)
        if fence:
            token, name, rest = fence.group("fence"), fence.group("name"), fence.group("rest")
            if name is None:
                top = directives[-1] if directives else None
                if not rest.strip() and top and top[0] == token[0] and len(token) >= top[1]:
                    directives.pop()  # closes a directive
                elif token[0] != ":":
                    skip_until = (token[0], len(token))  # a code block
                continue
            if name in CODE_DIRECTIVES or name.startswith("glue"):
                skip_until = (token[0], len(token))
                continue
            directives.append((token[0], len(token)))
            options_open = True
            if name in TITLED_DIRECTIVES and rest.strip():
                yield number + 1, rest if keep_inline else strip_inline(rest)
            continue
        if stripped.startswith("$$"):
            if not (len(stripped) > 4 and stripped.endswith("$$")):
                math_block = True
            continue
        if stripped.startswith("%") or _TARGET.match(line):
            continue
        yield number + 1, line if keep_inline else strip_inline(line)


def strip_inline(line: str) -> str:
    """``line`` without roles, code spans, math, URLs, link targets and HTML."""
    line = _ROLE.sub(" ", line)
    line = _SUBSTITUTION.sub(" ", line)
    line = _CODE_SPAN.sub(" ", line)
    line = _INLINE_MATH.sub(" ", line)
    line = _LINK.sub(lambda m: m.group("text"), line)
    line = _AUTOLINK.sub(" ", line)
    line = _URL.sub(" ", line)
    return _HTML_TAG.sub(" ", line)


# ----------------------------------------------------------------------------- numbers


def _context(text: str, start: int, end: int) -> str:
    return text[max(0, start - 25) : end + 15].strip()


def typed_numbers(text: str) -> list[tuple[int, int, str, str]]:
    """``(start, end, as written, value)`` of the typed numbers in one line of prose."""
    text = _DOTTED.sub(lambda m: " " * len(m.group(0)), text)
    found: list[tuple[int, int, str, str]] = []
    taken: list[tuple[int, int]] = []
    for match in _PERCENT.finditer(text):
        if _CONFIDENCE.match(text[match.end() :]):
            continue  # "95 % 구간": the level of an interval, not a measurement
        if _NAME_BEFORE.search(text[: match.start()]):
            continue
        value = match.group("value").replace("−", "-").lstrip("+")
        found.append((match.start(), match.end(), match.group(0), value))
        taken.append(match.span())
    for match in _DECIMAL.finditer(text):
        if any(lo <= match.start() < hi for lo, hi in taken):
            continue
        before, after = text[: match.start()], text[match.end() :]
        if _NAME_BEFORE.search(before) or _VERSION_BEFORE.search(before):
            continue
        if _VERSION_AFTER.match(after):
            continue
        value = match.group("value").replace("−", "-").lstrip("+")
        found.append((match.start(), match.end(), match.group(0), value))
    return sorted(found)


def page_hits(path: Path, root: Path) -> list[Hit]:
    """Every typed number on one page."""
    page = path.relative_to(root).as_posix()
    hits = []
    for where, markdown in page_markdown(path):
        for number, text in prose_lines(markdown):
            for start, end, written, value in typed_numbers(text):
                place = f"{where}, line {number}" if where else f"line {number}"
                hits.append(Hit(page, place, written.strip(), value, _context(text, start, end)))
    return hits


# ----------------------------------------------------------------------------- citations


_BIB_KEY = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,")
_CITE_ROLE = re.compile(r"\{cite(?::\w+)?\}`(?P<keys>[^`]+)`")


def bib_keys(bib: Path) -> set[str]:
    """The entry keys of a BibTeX file."""
    return set(_BIB_KEY.findall(bib.read_text(encoding="utf-8")))


def cited_keys(path: Path) -> set[str]:
    """Keys cited on a page with ``{cite}``/``{cite:p}``/``{cite:t}`` roles."""
    keys: set[str] = set()
    for _where, markdown in page_markdown(path):
        for match in _CITE_ROLE.finditer(markdown):
            keys.update(key.strip() for key in match.group("keys").split(","))
    return keys


def load_paper_numbers(root: Path) -> list[PaperNumber]:
    """Every entry of every ``paper_numbers.yml`` under ``book/`` (``ValueError`` if malformed).

    ``page`` is relative to the yml's folder, or to the repository root when it starts with
    ``solutions/`` (exercise text of that chapter).
    """
    import yaml

    entries = []
    for source in sorted((root / "book").rglob(PAPER_NUMBERS_FILE)):
        if SKIP_DIRS.intersection(source.relative_to(root / "book").parts[:-1]):
            continue
        name = source.relative_to(root).as_posix()
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or []
        if not isinstance(data, list):
            raise ValueError(f"{name}: expected a list of entries")
        for i, item in enumerate(data):
            fields = ("number", "cite", "page", "what")
            if not isinstance(item, dict) or any(
                not isinstance(item.get(k), str | int | float) or not str(item.get(k)).strip()
                for k in fields
            ):
                raise ValueError(f"{name}: entry {i} needs non-empty {', '.join(fields)}")
            page = str(item["page"]).strip()
            if not page.startswith("solutions/"):
                page = (source.parent / page).relative_to(root).as_posix()
            entries.append(
                PaperNumber(
                    number=str(item["number"]).strip(),
                    cite=str(item["cite"]).strip(),
                    page=page,
                    what=str(item["what"]).strip(),
                    source=name,
                )
            )
    return entries


def unlisted_hits(path: Path, root: Path, entries: list[PaperNumber]) -> list[Hit]:
    """The typed numbers of one page that no ``paper_numbers.yml`` entry for it allows."""
    page = path.relative_to(root).as_posix()
    allowed = {number_value(e.number) for e in entries if e.page == page}
    return [hit for hit in page_hits(path, root) if hit.value not in allowed]


def _author_year(bib: Path, key: str) -> tuple[str, str] | None:
    """First author's surname and the year of ``key``, from the bibliography."""
    from pybtex.database import parse_file

    entry = parse_file(str(bib)).entries.get(key)
    if entry is None:
        return None
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    surname = " ".join(people[0].last_names) if people else entry.fields.get("key", "")
    return surname.strip("{}"), entry.fields.get("year", "")


def page_cites(path: Path, key: str, bib: Path) -> bool:
    """Whether a page cites ``key``: a ``{cite}`` role, or in exercise text "Surname … year".

    Exercise notebooks are not built by Sphinx, so there a citation is the first author's
    surname and the year in the same cell (e.g. "Min et al. (2022)").
    """
    if key in cited_keys(path):
        return True
    if "solutions" not in path.parts:
        return False
    found = _author_year(bib, key)
    if not found or not all(found):
        return False
    surname, year = found
    return any(surname in text and year in text for _where, text in page_markdown(path))


def paper_number_problems(root: Path, entries: list[PaperNumber]) -> list[str]:
    """What is wrong with the allow-list: unknown keys, uncited keys, unused or odd entries."""
    bib = root / "book" / "references.bib"
    keys = bib_keys(bib)
    problems = []
    for entry in entries:
        label = f"{entry.source}: {entry.number!r} on {entry.page}"
        path = root / entry.page
        value = number_value(entry.number)
        if not typed_numbers(entry.number):
            problems.append(f"{label}: not a decimal number or a percentage")
        if entry.cite not in keys:
            problems.append(f"{label}: cite key {entry.cite!r} is not in book/references.bib")
        if not path.is_file():
            problems.append(f"{label}: no such page")
            continue
        if (
            entry.page.startswith("solutions/")
            and entry.page.split("/")[1][:4] != (Path(entry.source).parent.name[:4])
        ):
            problems.append(f"{label}: exercise text of another chapter")
        if entry.cite in keys and not page_cites(path, entry.cite, bib):
            problems.append(f"{label}: the page does not cite {entry.cite!r}")
        if value not in {hit.value for hit in page_hits(path, root)}:
            problems.append(f"{label}: the page does not contain this number (stale entry)")
    return problems


def number_value(number: str) -> str:
    """``"73%"`` -> ``"73"``, ``"27.4"`` -> ``"27.4"``: the digits an allow-list entry names."""
    text = number.strip().replace("−", "-").lstrip("+")
    for unit in ("%p", "%", "％", "퍼센트", "percent"):
        text = text.removesuffix(unit)
    return text.strip()


# ----------------------------------------------------------------------------- style

PARTICLES = (
    "은", "는", "이", "가", "을", "를", "의", "에", "에서", "에게", "께", "와", "과", "로",
    "으로", "로서", "으로서", "로써", "으로써", "도", "만", "까지", "부터", "보다", "처럼",
    "마다", "조차", "이나", "이란", "란", "이라는", "라는", "이라고", "라고", "이라", "이다",
    "입니다", "이며", "인", "에는", "에도", "에서는", "에서도", "에서의", "와의", "과의",
    "와는", "과는", "으로는", "로는", "으로도", "로도", "만으로", "만을", "만의", "이에요",
    "예요", "이고", "이면", "이든",
)  # fmt: skip
_BOLD_THEN_SPACE = re.compile(
    r"\*\*(?P<inner>[^*\n]+?)\*\*[ \t]+(?P<particle>"
    + "|".join(sorted(PARTICLES, key=len, reverse=True))
    + r")(?=[\s.,!?;:)\]」』'\"…]|$)"
)
_SENTENCE_END = re.compile(r"[.!?:。]\s*$")


def _neutral_code(line: str) -> str:
    """Code spans as ``` `C` ```, roles as ``{r}`R` ``, math as ``$M$``: no ``**`` inside."""
    line = _ROLE.sub(lambda m: "{r}`R`", line)
    line = _CODE_SPAN.sub(lambda m: "`C`", line)
    return _INLINE_MATH.sub(lambda m: "$M$", line)


def bold_problems(markdown: str) -> list[tuple[int, str, str]]:
    """``(line, problem, snippet)`` for bold text a Korean reader sees wrongly.

    - ``space``: a space between the bold text and its particle (``**보상 모델** 을``);
    - ``literal``: a ``**`` that CommonMark leaves as text, usually because a particle is
      glued to bold text that ends in punctuation (``**토큰(token)**으로`` shows the stars;
      write ``**토큰**(token)으로``).
    """
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark")
    problems = []
    for number, line in prose_lines(markdown, keep_inline=True):
        plain = _neutral_code(line)
        for match in _BOLD_THEN_SPACE.finditer(plain):
            if _SENTENCE_END.search(match.group("inner")):
                continue  # "**제목.** 이 그림은": a bold lead-in, then a new sentence
            problems.append((number, "space", match.group(0)))
        if "**" not in plain:
            continue
        tokens = parser.parseInline(plain)[0].children or []
        for token in tokens:
            if token.type == "text" and "**" in token.content:
                problems.append((number, "literal", token.content.strip()[:60]))
                break
    return problems


# ----------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    root = Path(argv[0]) if argv else Path.cwd()
    entries = load_paper_numbers(root)
    problems = paper_number_problems(root, entries)
    for problem in problems:
        print(f"allow   {problem}")
    count = len(problems)
    for path in pages(root):
        for hit in unlisted_hits(path, root, entries):
            print(f"number  {hit}")
            count += 1
        page = path.relative_to(root).as_posix()
        for where, markdown in page_markdown(path):
            for number, kind, snippet in bold_problems(markdown):
                place = f"{where}, line {number}" if where else f"line {number}"
                print(f"bold    {page} ({place}): {kind}: {snippet}")
                count += 1
    print(f"{count} problem(s)")
    return 1 if count else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
