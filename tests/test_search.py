"""Korean-aware search (book/_ext/funlm_search.py): the rules, the aliases, and that the
JavaScript half (run by Node.js here, by Chromium in test_browser.py) stems exactly as the
Python half that built the index."""

from __future__ import annotations

import bisect
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
sys.path.insert(0, str(BOOK / "_ext"))

import funlm_search  # noqa: E402
from funlm_search import AliasTable, KoreanStemmer, glossary_groups, js_code  # noqa: E402

STEMMER = KoreanStemmer()
ALIASES = AliasTable(glossary_groups(BOOK / "glossary.md"), STEMMER)


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("모델을", "모델"),
        ("헤드가", "헤드"),
        ("하강은", "하강"),
        ("봉우리에서는", "봉우리"),
        ("모델들의", "모델"),
        ("학습하는", "학습"),
        ("정확한", "정확"),
        ("보상", "보상"),  # nothing to strip
        ("유도", "유도"),  # a noun that ends like the particle 도 (kept whole)
        ("결과를", "결과"),
        ("결과", "결과"),
        ("ICL을", "icl"),  # Latin word + particle: the particle goes, Porter does the rest
        ("heads", "head"),
        ("를", "를"),  # a lone particle is not emptied
    ],
)
def test_stems(word, stem):
    assert STEMMER.stem(word) == stem


def test_suffixes_are_longest_first():
    listed = funlm_search.suffixes()
    assert listed == sorted(listed, key=lambda s: (-len(s), s))
    assert "에서는" in listed and "들을" in listed


def test_glossary_entries_become_alias_groups():
    groups = glossary_groups(BOOK / "glossary.md")
    as_sets = [set(g) for g in groups]
    assert {"인간 피드백 강화학습", "Reinforcement Learning from Human Feedback", "RLHF"} in as_sets
    assert {"문맥 내 학습", "In-context Learning", "ICL"} in as_sets
    assert all(len(g) >= 2 for g in groups), [g for g in groups if len(g) < 2]


def test_aliases_join_korean_and_english_names():
    assert ALIASES.rewrite_query(["인간", "피드백", "강화학습"]) == ["rlhf"]
    assert ALIASES.rewrite_query(["RLHF"]) == ["rlhf"]
    assert ALIASES.rewrite_query(["유도", "헤드가", "뭐야"]) == ["inductionhead", "뭐야"]
    # the index side finds a name with particles inside running text
    assert ALIASES.index_tokens(["이것이", "문맥", "내", "학습을", "보여", "줍니다"]) == ["icl"]
    assert ALIASES.index_tokens(["그냥", "문장입니다"]) == []


def test_search_language_indexes_aliases_and_compounds():
    language = funlm_search.SearchKorean(
        {
            "funlm_keep": [],
            "funlm_aliases": [["문맥 내 학습", "ICL"]],
            "funlm_compounds": {"보상모델을": ["보상", "모델"]},
        }
    )
    words = language.split("문맥 내 학습을 위한 보상모델을 본다")
    assert "icl" in words and "보상" in words and "모델" in words
    assert language.stem("학습을") == "학습"
    assert "var splitQuery" in language.js_splitter_code
    assert "FunlmKorean" in language.js_stemmer_code


def _book_words() -> list[str]:
    words: set[str] = set()
    for path in sorted(BOOK.rglob("*.md")):
        if "_build" not in path.parts:
            words.update(re.findall(r"\w+", path.read_text("utf-8")))
    return sorted(words)


def test_javascript_stems_like_python():
    """Every word of the book's Markdown, stemmed by the generated JS in Node.js == Python."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("Node.js is not installed (test_browser.py checks the same in Chromium)")
    words = _book_words()
    queries = [
        ["보상", "모델을"],
        ["유도", "헤드가"],
        ["이중", "하강은"],
        ["인간", "피드백", "강화학습"],
    ]
    script = (
        js_code(STEMMER, ALIASES)
        + "\nconst input = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        + "\nconsole.log(JSON.stringify({stems: input.words.map(FunlmKorean.stem),"
        + " rewrites: input.queries.map(FunlmKorean.rewrite)}));"
    )
    out = subprocess.run(
        [node, "-e", script],
        input=json.dumps({"words": words, "queries": queries}),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    python = [STEMMER.stem(w) for w in words]
    differ = [(w, p, j) for w, p, j in zip(words, python, result["stems"], strict=True) if p != j]
    assert len(words) > 1000
    assert not differ, differ[:20]
    assert result["rewrites"] == [ALIASES.rewrite_query(q) for q in queries]


def _noun_particle_pairs(texts: list[str]) -> dict[str, str]:
    """Eojeols kiwipiepy reads as one noun + particles, and that noun: the rules' target."""
    words = sorted({w for text in texts for w in re.findall(r"[\uac00-\ud7a3]{2,}", text)})
    starts, position = [], 0
    for word in words:  # one analysis of all words, one per line
        starts.append(position)
        position += len(word) + 1
    by_word: dict[int, list] = {}
    for token in funlm_search._kiwi().tokenize("\n".join(words)):
        index = bisect.bisect_right(starts, token.start) - 1
        by_word.setdefault(index, []).append(token)
    pairs: dict[str, str] = {}
    for index, tokens in by_word.items():
        word = words[index]
        if (
            len(tokens) >= 2
            and tokens[0].tag.startswith("NN")
            and all(t.tag.startswith("J") for t in tokens[1:])
            and word.startswith(tokens[0].form)
        ):
            pairs[word] = tokens[0].form
    return pairs


def test_particles_are_stripped_as_a_morphological_analyser_would():
    """On the book's own prose, the stemmer finds the noun that kiwipiepy finds in >= 95 % of
    the noun+particle words (the rest are mostly nouns kiwipiepy reads differently)."""
    texts = funlm_search._source_texts(BOOK / "ch02_instructgpt")
    texts += funlm_search._source_texts(BOOK / "ch03_icl")
    pairs = _noun_particle_pairs(texts)
    analysis = funlm_search.kiwi_analysis(texts, None)
    stemmer = KoreanStemmer(n for n in analysis["nouns"] if STEMMER.strip(n) != n)
    wrong = {w: (n, stemmer.stem(w)) for w, n in pairs.items() if stemmer.stem(w) != n}
    print(f"{len(pairs) - len(wrong)} of {len(pairs)} noun+particle words agree")
    assert len(pairs) > 300
    assert len(wrong) / len(pairs) <= 0.05, sorted(wrong.items())[:40]


def test_kiwi_analysis_keeps_real_nouns_and_splits_compounds():
    analysis = funlm_search.kiwi_analysis(
        ["보상모델을 평가합니다. 어텐션의 결과를 확인합니다."], None
    )
    assert analysis["compounds"].get("보상모델을") == ["보상", "모델"]
    assert {"평가", "결과", "확인"} <= set(analysis["nouns"])
    assert "어텐션의" not in analysis["nouns"]
