"""No measured number is typed by hand in the book or the exercise text.

A measured number reaches a page through the ``{repro}`` role (a record in
``results/repro/*.json``) or is printed by code; a number quoted from a paper is listed in the
chapter folder's ``paper_numbers.yml`` with a citation the page makes. Anything else that is a
decimal number or a percentage in the prose fails here. What counts as prose, and what is
exempt (code, math, roles, URLs, versions, names, dates, confidence levels), is defined and
documented in ``book/_ext/funlm_prose.py``; the unit tests below pin it down.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from funlm_prose import (  # noqa: E402
    load_paper_numbers,
    page_hits,
    pages,
    paper_number_problems,
    prose_lines,
    typed_numbers,
    unlisted_hits,
)

PAGES = pages(ROOT)
HOW_TO_FIX = (
    "측정값은 {repro}`chNN:키` 역할로 기록에서 읽고, 논문의 숫자는 그 장 폴더의 "
    "paper_numbers.yml 에 출처(cite)와 함께 적고, 설정값은 수식($\\beta = 0.1$)이나 "
    "코드(`temperature=0.7`)로 쓰세요."
)


def _written(line: str) -> list[str]:
    return [written for _start, _end, written, _value in typed_numbers(line)]


def _prose(markdown: str) -> str:
    return "\n".join(text for _number, text in prose_lines(markdown))


# ----------------------------------------------------------------------------- the book


@pytest.fixture(scope="module")
def paper_numbers():
    return load_paper_numbers(ROOT)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_has_no_hand_typed_numbers(page, paper_numbers):
    hits = unlisted_hits(page, ROOT, paper_numbers)
    assert not hits, "손으로 적은 숫자:\n" + "\n".join(map(str, hits)) + "\n" + HOW_TO_FIX


def test_paper_numbers_are_cited_on_their_page_and_used(paper_numbers):
    problems = paper_number_problems(ROOT, paper_numbers)
    assert not problems, "\n".join(problems)


def test_the_scan_covers_book_pages_notebooks_and_exercise_text():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert "book/ch00_intro/index.md" in names
    assert "book/ch00_intro/first_model.ipynb" in names
    assert "solutions/ch00_orientation/ch00_orientation.ipynb" in names
    assert not any("/_build/" in n or n.startswith("exercises/") for n in names)


# ----------------------------------------------------------------------------- the scanner


def test_decimals_and_percentages_in_prose_are_found():
    assert _written("정확도는 0.55였고 특화 모델은 0.73이었습니다.") == ["0.55", "0.73"]
    assert _written("라벨러는 약 73% 일치했고, 12 %가 틀렸습니다.") == ["73%", "12 %"]
    assert _written("한 문항은 1.7%p, 50퍼센트, 그리고 -0.02 만큼") == [
        "1.7%p",
        "50퍼센트",
        "-0.02",
    ]
    assert _written("1.3B가 175B를 이겼다") == ["1.3"]
    assert _written("| 검증 손실 | 1.882 | 1.592 |") == ["1.882", "1.592"]
    assert _written("기준을0.62로 낮춥니다") == ["0.62"]


def test_integers_versions_names_dates_and_confidence_levels_are_not_typed_numbers():
    assert _written("1750억 파라미터, 2022년 11월 30일, 36개 과제 중 6개") == []
    assert _written("Python 3.11 이상, nbgrader 0.9, CC BY 4.0, torch==2.13.0 의 v1.2") == []
    assert _written("GPT-3.5 와 SmolLM2-1.7B-Instruct, 그리고 Llama-3.1") == []
    assert _written("2024.05.01 에 1.2.3 을 냈고 127.0.0.1 에서 봅니다") == []
    assert _written("95 % 구간과 95% 신뢰구간, 90% interval") == []
    assert _written("Table 2.1 과 그림 3.2 를 보세요") == []
    assert _written("형식 0.1, 지표 0.5") == ["0.1", "0.5"]  # 식/표 only as whole words


def test_code_math_roles_urls_and_directive_options_are_not_prose():
    page = "\n".join(
        [
            "---",
            "title: 0.5",
            "---",
            "(label-1.2)=",
            "% 주석 0.9",
            "본문의 `temperature=0.7` 과 $\\beta = 0.1$ 과 {repro}`ch02:rm_accuracy|.3f`.",
            "인용 {cite}`brown2020gpt3` 와 [링크](https://x.org/v0.5/a) <https://y.org/1.5>",
            "{{ repository_url }} 와 <img width='50%'> <!-- 0.3 -->",
            "```python",
            "lr = 0.01",
            "```",
            "$$",
            "\\alpha \\approx 0.076",
            "$$",
            "```{figure} /_diagrams/ch01_causal_mask.svg",
            ":width: 80%",
            ":name: fig-0.5",
            "",
            "캡션은 산문이므로 0.25 는 찾습니다.",
            "```",
            ":::{dropdown} 답 보기 0.75",
            "답의 0.35 도 찾습니다.",
            ":::",
            "```{code-cell} ipython3",
            "print(0.125)",
            "```",
        ]
    )
    assert _written(_prose(page)) == ["0.25", "0.75", "0.35"]


def test_a_planted_number_fails_a_page_and_a_listed_one_passes(tmp_path):
    root = tmp_path
    chapter = root / "book" / "ch09_demo"
    chapter.mkdir(parents=True)
    (root / "book" / "references.bib").write_text(
        "@article{yao2023react,\n  author = {Yao, Shunyu and Zhao, Jeffrey},\n"
        "  title = {ReAct},\n  year = {2023}\n}\n",
        encoding="utf-8",
    )
    (chapter / "story.md").write_text(
        "ReAct {cite}`yao2023react` 는 HotpotQA에서 27.4점이었습니다.\n"
        "우리 에이전트는 0.42를 맞혔습니다.\n",
        encoding="utf-8",
    )
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["측정값 0.9 를 적었다"]},
            {"cell_type": "code", "metadata": {}, "source": ["x = 0.5"], "outputs": [],
             "execution_count": None},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    (chapter / "demo.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    story, demo = chapter / "story.md", chapter / "demo.ipynb"

    assert [h.number for h in page_hits(story, root)] == ["27.4", "0.42"]
    assert [(h.number, h.where) for h in page_hits(demo, root)] == [("0.9", "cell 0, line 1")]

    (chapter / "paper_numbers.yml").write_text(
        '- number: "27.4"\n  cite: yao2023react\n  page: story.md\n'
        "  what: HotpotQA exact match of ReAct (Table 1)\n",
        encoding="utf-8",
    )
    entries = load_paper_numbers(root)
    assert [(e.number, e.page) for e in entries] == [("27.4", "book/ch09_demo/story.md")]
    assert [h.number for h in unlisted_hits(story, root, entries)] == ["0.42"]
    assert paper_number_problems(root, entries) == []


def test_the_allow_list_needs_a_real_citation_on_the_page_and_a_use(tmp_path):
    root = tmp_path
    chapter = root / "book" / "ch09_demo"
    chapter.mkdir(parents=True)
    (root / "book" / "references.bib").write_text(
        "@article{yao2023react,\n  author = {Yao, Shunyu},\n  title = {ReAct},\n"
        "  year = {2023}\n}\n",
        encoding="utf-8",
    )
    (chapter / "story.md").write_text("ReAct는 27.4점이었습니다.\n", encoding="utf-8")
    (chapter / "paper_numbers.yml").write_text(
        '- {number: "27.4", cite: yao2023react, page: story.md, what: "Table 1"}\n'
        '- {number: "33.4", cite: yao2023react, page: story.md, what: "CoT-SC"}\n'
        '- {number: "12", cite: nokey2020, page: story.md, what: "an integer"}\n',
        encoding="utf-8",
    )
    problems = "\n".join(paper_number_problems(root, load_paper_numbers(root)))
    assert "does not cite 'yao2023react'" in problems  # no {cite} on the page
    assert "'33.4' on book/ch09_demo/story.md: the page does not contain" in problems
    assert "'nokey2020' is not in book/references.bib" in problems
    assert "'12' on book/ch09_demo/story.md: not a decimal number" in problems

    (chapter / "paper_numbers.yml").write_text("- {number: 1.5, cite: x}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="needs non-empty"):
        load_paper_numbers(root)
