"""Korean style of bold text: the particle sticks to the bold word, and the bold renders.

``**보상 모델**을`` is right and ``**보상 모델** 을`` is wrong: a Korean particle belongs to the
word before it. Gluing a particle to bold text that ends in punctuation breaks CommonMark,
which then prints the stars (``**토큰(token)**으로``); write ``**토큰**(token)으로``.
Checked across book pages (``book/**/*.md``, markdown cells of book notebooks) and exercise
text (markdown cells of ``solutions/*/*.ipynb``); code, math and roles are not prose.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from funlm_prose import bold_problems, page_markdown, pages  # noqa: E402

PAGES = pages(ROOT)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_bold_text_keeps_its_particle_and_renders(page):
    found = []
    for where, markdown in page_markdown(page):
        for line, kind, snippet in bold_problems(markdown):
            place = f"{where}, line {line}" if where else f"line {line}"
            found.append(f"{place}: {kind}: {snippet}")
    assert not found, (
        "굵은 글씨 뒤의 조사는 띄우지 않습니다(**보상 모델**을). 굵은 글씨가 괄호나 문장 부호로 "
        "끝나면 조사를 붙일 때 별표가 그대로 보이므로 괄호를 밖으로 빼세요"
        "(**토큰**(token)으로).\n" + "\n".join(found)
    )


@pytest.mark.parametrize(
    "line",
    [
        "**보상 모델** 을 학습합니다.",
        "이것이 **유니그램(unigram) 모델** 입니다.",
        "모델 **하나** 를 만들어",
        "**생각(Thought)** 은 다음",
        "**에이전트(agent)** 라고 부릅니다",
    ],
)
def test_a_space_before_a_particle_is_found(line):
    assert [kind for _n, kind, _s in bold_problems(line)] == ["space"]


@pytest.mark.parametrize(
    "line",
    ["**토큰(token)**으로 자릅니다", '말**"인용"**을 합니다', "**`status` 가 `error`**인 줄"],
)
def test_bold_that_commonmark_cannot_close_is_found(line):
    assert [kind for _n, kind, _s in bold_problems(line)] == ["literal"]


@pytest.mark.parametrize(
    "line",
    [
        "**보상 모델**을 학습합니다.",
        "**토큰**(token)으로 자릅니다",
        "**읽는 법.** 이 그림은 두 모델을 비교합니다.",  # a bold lead-in, then a new sentence
        "**확률 분포** 보기",  # not a particle
        "`f(**kwargs)` 를 부르고 {term}`보상 모델` 을 봅니다",
        "$a ** b$ 는 거듭제곱",
    ],
)
def test_correct_bold_and_code_are_not_flagged(line):
    assert bold_problems(line) == []


def test_fenced_code_is_not_checked():
    assert bold_problems("```python\nf(**kw) 를\nx = **a** 을\n```\n본문") == []
