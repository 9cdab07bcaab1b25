"""Rebuild ``FunLMSansKR-Regular.otf``: Noto Sans CJK KR Regular, subset and renamed.

The course's figures need Korean labels on any machine (Colab, a laptop without CJK fonts, the
grader's sandbox), so a small Korean font ships with the package. This script makes it from
Noto Sans CJK KR Regular (SIL Open Font License 1.1, see ``OFL.txt``), keeping

- Basic Latin, Latin-1, Greek, general punctuation, super/subscripts, arrows, mathematical
  operators, circled digits, geometric shapes and CJK punctuation, and
- all 11,172 Hangul syllables and the Hangul compatibility jamo,

and renames the family to "FunLM Sans KR" (a Modified Version may not use the upstream's
Reserved Font Name, and a unique name keeps matplotlib from mixing it with an installed Noto).

Run it where Debian's ``fonts-noto-cjk`` is installed (fontTools comes with matplotlib)::

    python src/funlm/data/fonts/build_subset.py [/path/to/NotoSansCJK-Regular.ttc]
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
TARGET = Path(__file__).with_name("FunLMSansKR-Regular.otf")
FAMILY = "FunLM Sans KR"
POSTSCRIPT = "FunLMSansKR-Regular"
RANGES = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 supplement (·, ×, ±, °)
    (0x0370, 0x03FF),  # Greek (α, β, θ)
    (0x2010, 0x2027),  # dashes, quotes, bullet, ellipsis
    (0x2030, 0x203A),  # per mille, primes, angle quotes
    (0x2070, 0x209F),  # superscripts and subscripts
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators (−, ≤, ≈)
    (0x2460, 0x2473),  # circled digits ① … ⑳
    (0x25A0, 0x25FF),  # geometric shapes (▶, ●)
    (0x3000, 0x303F),  # CJK punctuation (「」)
    (0x3131, 0x318E),  # Hangul compatibility jamo (ㄱ, ㅏ)
    (0xAC00, 0xD7A3),  # Hangul syllables
]


def korean_face(collection: Path) -> TTFont:
    """The "Noto Sans CJK KR" face of the Noto CJK collection."""
    for font in TTCollection(str(collection)).fonts:
        if font["name"].getDebugName(1) == "Noto Sans CJK KR":
            return font
    raise SystemExit(f"{collection} has no 'Noto Sans CJK KR' face")


def build(source: Path = SOURCE, target: Path = TARGET) -> Path:
    font = korean_face(source)
    options = subset.Options()
    options.layout_features = ["kern"]
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = ["*"]
    options.name_legacy = True
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[u for lo, hi in RANGES for u in range(lo, hi + 1)])
    subsetter.subset(font)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (16, 17, 21, 22):  # typographic family names: drop, use ID 1/2
            names.removeNames(nameID=record.nameID)
    names.setName(FAMILY, 1, 3, 1, 0x409)
    names.setName("Regular", 2, 3, 1, 0x409)
    names.setName(f"{POSTSCRIPT};subset of NotoSansCJKkr-Regular 2.004", 3, 3, 1, 0x409)
    names.setName(f"{FAMILY}", 4, 3, 1, 0x409)
    names.setName(POSTSCRIPT, 6, 3, 1, 0x409)
    for record in list(names.names):  # Mac / other-language copies of the renamed IDs
        if record.nameID in (1, 3, 4, 6) and (record.platformID, record.langID) != (3, 0x409):
            names.removeNames(nameID=record.nameID, platformID=record.platformID,
                              langID=record.langID)  # fmt: skip
    cff = font["CFF "].cff
    cff.fontNames = [POSTSCRIPT]
    top = cff.topDictIndex[0]
    top.FamilyName, top.FullName = FAMILY, FAMILY
    font.recalcTimestamp = False  # the same source gives the same bytes
    font.save(str(target))
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE))
