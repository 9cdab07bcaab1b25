"""Explanatory diagrams of the book, one per chapter, drawn with matplotlib (Korean labels).

These are concept drawings, not measurements: no function here reads a result or trains a
model, and the double-descent curve is a schematic shape, labelled as such. The book renders
them at build time (``book/_ext/funlm_diagrams.py`` writes ``book/_diagrams/<name>.svg``) and
each chapter page shows one with a ``{figure}`` block; nothing rendered is committed.

Every function returns a new :class:`matplotlib.figure.Figure`, made without ``pyplot`` (no
backend, nothing to close; in a notebook, ``display(fig)`` shows it); :data:`DIAGRAMS` maps the
file name of each to its function, and :func:`write_all` writes them as SVG.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from funlm.plots import svg_bytes, use_korean_font

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DIAGRAMS",
    "causal_mask",
    "course_map",
    "double_descent_schematic",
    "induction_head",
    "instructgpt_pipeline",
    "prompting_and_specialising",
    "react_loop",
    "write_all",
]

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies).
BLUE, ORANGE, GREEN, RED = "#0072B2", "#E69F00", "#009E73", "#D55E00"
PURPLE, SKY, GREY, INK = "#CC79A7", "#56B4E9", "#8C8C8C", "#222222"


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure with one frameless axes whose data coordinates are inches from bottom-left."""
    from matplotlib.figure import Figure

    use_korean_font()
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    return fig, ax


def _tint(color: str, amount: float = 0.82) -> tuple[float, float, float]:
    """``color`` mixed with white (``amount`` of white)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _box(
    ax: Axes,
    center: tuple[float, float],
    size: tuple[float, float],
    text: str,
    color: str,
    *,
    fontsize: float = 11,
    dashed: bool = False,
    fill: bool = True,
) -> None:
    """A rounded box with centred (multi-line) text."""
    from matplotlib.patches import FancyBboxPatch

    (x, y), (w, h) = center, size
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=_tint(color) if fill else "white",
            edgecolor=color,
            linewidth=1.6,
            linestyle="--" if dashed else "-",
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=INK, linespacing=1.35)


def _arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    color: str = INK,
    rad: float = 0.0,
    dashed: bool = False,
    width: float = 1.6,
) -> None:
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=16,
            connectionstyle=f"arc3,rad={rad}",
            color=color,
            linewidth=width,
            linestyle="--" if dashed else "-",
            shrinkA=2,
            shrinkB=2,
        )
    )


# ----------------------------------------------------------------------------- chapter 0


def course_map() -> Figure:
    """Chapter 0: the course as a path through eight chapters, coloured by part of the book."""
    fig, ax = _figure(11.0, 4.2)
    chapters = [
        ("0장 시작하며", "도구와 첫 모델", GREY),
        ("1장 GPT-3", "사전학습 + 프롬프트", BLUE),
        ("2장 InstructGPT", "SFT → 보상 모델 → RLHF", BLUE),
        ("3장 문맥 내 학습", "예시로 배우는 능력", BLUE),
        ("4장 이중 하강", "그 능력의 단서 (가설)", BLUE),
        ("5장 Small LM", "프롬프트와 특화", GREEN),
        ("6장 LM 에이전트", "도구를 쓰는 루프", GREEN),
        ("7장 마치며", "보여 준 것, 못 보여 준 것", GREY),
    ]
    xs = [1.45, 4.15, 6.85, 9.55]
    top, bottom = 3.35, 1.35
    size = (2.35, 1.05)
    centers = [(x, top) for x in xs] + [(x, bottom) for x in reversed(xs)]
    for (title, subtitle, color), center in zip(chapters, centers, strict=True):
        _box(ax, center, size, f"{title}\n{subtitle}", color, fontsize=11)
    half = size[0] / 2
    for i in range(3):  # left to right along the top row, right to left along the bottom
        _arrow(ax, (xs[i] + half, top), (xs[i + 1] - half, top))
        _arrow(ax, (xs[3 - i] - half, bottom), (xs[2 - i] + half, bottom))
    _arrow(ax, (xs[3], top - size[1] / 2), (xs[3], bottom + size[1] / 2))
    ax.text(xs[3] + 0.12, (top + bottom) / 2, "왜 생길까?", fontsize=10, color=INK, va="center")
    # Chapter 2's headline (a small aligned model preferred to a much larger one) returns in 5.
    _arrow(ax, (xs[2], top - size[1] / 2), (xs[2], bottom + size[1] / 2), color=GREEN, dashed=True)
    ax.text(
        xs[2] + 0.12,
        (top + bottom) / 2,
        "작은 모델의 가능성",
        fontsize=10,
        color=GREEN,
        va="center",
    )
    legend = [
        (GREY, "시작과 마무리"),
        (BLUE, "시즌 1: ChatGPT는 어떻게 만들어졌나"),
        (GREEN, "작은 모델로 할 수 있는 일"),
    ]
    for x, (color, label) in zip((0.35, 2.85, 7.0), legend, strict=True):
        _box(ax, (x + 0.15, 0.32), (0.3, 0.22), "", color)
        ax.text(x + 0.42, 0.32, label, fontsize=10, va="center", color=INK)
    return fig


# ----------------------------------------------------------------------------- chapter 1


def causal_mask(tokens: Sequence[str] = ("나는", "오늘", "책을", "읽었다", ".")) -> Figure:
    """Chapter 1: which keys each query position may attend to under the causal mask."""
    import numpy as np
    from matplotlib.colors import ListedColormap

    use_korean_font()
    from matplotlib.figure import Figure

    n = len(tokens)
    fig = Figure(figsize=(5.6, 4.9))
    ax = fig.subplots()
    allowed = np.tril(np.ones((n, n)))
    ax.imshow(allowed, cmap=ListedColormap([_tint(GREY, 0.7), _tint(BLUE, 0.45)]), vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            text, color = ("볼 수 있음", INK) if j <= i else ("−∞", "#555555")
            ax.text(j, i, text, ha="center", va="center", fontsize=9 if j <= i else 11, color=color)
    ax.set_xticks(range(n), [f"{t}\n({j + 1})" for j, t in enumerate(tokens)])
    ax.set_yticks(range(n), [f"({i + 1}) {t}" for i, t in enumerate(tokens)])
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("키(key): 참고하는 위치", fontsize=11, labelpad=8)
    ax.set_ylabel("질의(query): 지금 위치", fontsize=11)
    ax.set_xticks(np.arange(-0.5, n), minor=True)
    ax.set_yticks(np.arange(-0.5, n), minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="both", length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title("−∞ 칸은 소프트맥스 뒤 가중치가 0: 미래 토큰은 볼 수 없다", fontsize=11, y=-0.1)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- chapter 2


def instructgpt_pipeline() -> Figure:
    """Chapter 2: InstructGPT's three steps (SFT → reward model → RL) and DPO's shortcut."""
    fig, ax = _figure(11.5, 4.1)
    row = 2.45
    stages = [
        (1.0, "사전학습\n모델", GREY, (1.45, 1.0)),
        (3.35, "① 지도 미세조정\n(SFT)", BLUE, (2.2, 1.0)),
        (6.05, "② 보상 모델\n학습", ORANGE, (2.2, 1.0)),
        (8.75, "③ 강화학습\n(PPO)", RED, (2.2, 1.0)),
        (10.75, "지시를 따르는\n모델", GREEN, (1.35, 1.0)),
    ]
    for x, text, color, size in stages:
        _box(ax, (x, row), size, text, color, fontsize=11)
    edges = [s[0] + s[3][0] / 2 for s in stages], [s[0] - s[3][0] / 2 for s in stages]
    for i in range(len(stages) - 1):
        _arrow(ax, (edges[0][i], row), (edges[1][i + 1], row))
    data = [
        (3.35, "사람이 쓴 모범 답안\n(지시, 답)"),
        (6.05, "사람이 고른 비교 쌍\n답 A > 답 B"),
        (8.75, "목표: 보상 − β·KL\n(SFT 모델에서 너무 멀어지지 않게)"),
    ]
    for x, text in data:
        ax.text(
            x,
            row + 1.15,
            text,
            ha="center",
            va="center",
            fontsize=9.5,
            color=INK,
            bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": GREY},
        )
        _arrow(ax, (x, row + 0.78), (x, row + 0.52), color=GREY)
    _arrow(ax, (6.05, row - 0.5), (8.2, row - 0.5), color=ORANGE, rad=0.35)
    ax.text(7.1, row - 1.0, "보상 점수", ha="center", fontsize=9.5, color=ORANGE)
    # DPO: from the SFT model and the comparison pairs straight to the aligned model.
    _arrow(
        ax, (3.35, row - 0.5), (10.75, row - 0.5), color=PURPLE, rad=0.28, dashed=True, width=2.0
    )
    ax.text(
        7.05,
        0.45,
        "DPO: 같은 비교 쌍으로 정책을 바로 학습 (보상 모델과 강화학습 없이, 분류 손실 하나)",
        ha="center",
        fontsize=10,
        color=PURPLE,
    )
    return fig


# ----------------------------------------------------------------------------- chapter 3


def induction_head() -> Figure:
    """Chapter 3: how an induction head completes ``… A B … A`` with ``B``, and its pattern."""
    import numpy as np

    use_korean_font()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.5, 4.6))
    left = fig.add_axes((0.0, 0.0, 0.62, 1.0))
    width, height = 7.3, 4.6
    left.set_xlim(0, width)
    left.set_ylim(0, height)
    left.set_axis_off()
    tokens = ["…", "A", "B", "…", "…", "A"]
    xs = [0.55 + 1.05 * i for i in range(len(tokens))]
    y = 1.7
    for i, (x, token) in enumerate(zip(xs, tokens, strict=True)):
        color = ORANGE if token == "A" else (BLUE if token == "B" else GREY)
        if i == len(tokens) - 1:
            color = RED
        _box(left, (x, y), (0.75, 0.62), token, color, fontsize=15)
        left.text(x, y - 0.55, f"{i + 1}", ha="center", fontsize=9, color=GREY)
    left.text(xs[-1], y - 0.85, "지금 토큰", ha="center", fontsize=10, color=RED)
    # ① previous-token head (layer 0): B reads the token before it.
    _arrow(left, (xs[2] - 0.05, y + 0.33), (xs[1] + 0.05, y + 0.33), color=BLUE, rad=0.6)
    left.text(
        (xs[1] + xs[2]) / 2,
        y + 0.95,
        "① 이전 토큰 헤드 (층 0)\nB 자리에 '앞 토큰은 A'를 적어 둔다",
        ha="center",
        fontsize=9.5,
        color=BLUE,
    )
    # ② induction head (layer 1): the current A attends to the token after the earlier A.
    _arrow(left, (xs[-1], y + 0.33), (xs[2] + 0.1, y + 0.33), color=RED, rad=0.45, width=2.0)
    left.text(
        (xs[2] + xs[-1]) / 2 + 0.35,
        y + 1.75,
        "② 유도 헤드 (층 1): 지금 토큰 A를 열쇠로\n앞에서 A 바로 뒤에 온 토큰(B)을 찾는다",
        ha="center",
        fontsize=9.5,
        color=RED,
    )
    # ③ copy: predict B as the next token.
    _box(left, (xs[-1] + 1.0, y), (0.75, 0.62), "B", BLUE, fontsize=15, dashed=True, fill=False)
    _arrow(left, (xs[-1] + 0.38, y), (xs[-1] + 0.62, y), color=INK)
    left.text(xs[-1] + 1.0, y - 0.7, "③ 다음 토큰\n예측: B", ha="center", fontsize=9.5)

    right = fig.add_axes((0.64, 0.16, 0.32, 0.72))
    n = 6  # a random sequence of n tokens, then the same n tokens again
    size = 2 * n
    pattern = np.zeros((size, size))
    for query in range(n, size):
        pattern[query, query - n + 1] = 1.0  # the token after the previous occurrence
    for query in range(n):
        pattern[query, 0] = 0.35  # nothing to copy yet: weight parks on the first token
    right.imshow(pattern, cmap="Reds", vmin=0, vmax=1)
    right.set_xticks([0, n - 1, n, size - 1], ["1", f"{n}", f"{n + 1}", f"{size}"])
    right.set_yticks([0, n - 1, n, size - 1], ["1", f"{n}", f"{n + 1}", f"{size}"])
    right.axhline(n - 0.5, color=GREY, linewidth=1, linestyle="--")
    right.axvline(n - 0.5, color=GREY, linewidth=1, linestyle="--")
    right.set_xlabel("키 위치", fontsize=10)
    right.set_ylabel("질의 위치", fontsize=10)
    right.set_title("같은 토큰열을 두 번 보여 줄 때\n유도 헤드의 어텐션 (개념도)", fontsize=10.5)
    right.annotate(
        "앞선 등장의 한 칸 뒤",
        (n - 1, size - 2),
        xytext=(n + 1.5, n - 2.5),
        fontsize=9,
        color=RED,
        arrowprops={"arrowstyle": "->", "color": RED},
    )
    return fig


# ----------------------------------------------------------------------------- chapter 4


def double_descent_schematic() -> Figure:
    """Chapter 4: the double-descent shape (schematic): classical U, threshold, modern regime."""
    import numpy as np

    use_korean_font()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.6, 4.8))
    ax = fig.subplots()
    threshold = 1.0
    x_all = np.linspace(0.08, 3.0, 800)
    x_under = x_all[x_all < threshold]

    def test_error(x: np.ndarray) -> np.ndarray:
        bias = 0.55 * np.exp(-4.0 * x)  # falls as capacity grows
        spike = 0.05 / (np.abs(x - threshold) + 0.06)  # variance peaks at the threshold
        return 0.12 + bias + spike - 0.02 * np.clip(x - threshold, 0.0, None)

    def train_error(x: np.ndarray) -> np.ndarray:
        return 0.5 * np.clip(1 - x / threshold, 0.0, None) ** 1.6

    ax.plot(x_all, test_error(x_all), color=RED, linewidth=2.4)
    ax.plot(x_all, train_error(x_all), color=BLUE, linewidth=2.0, linestyle="--")
    ax.axvline(threshold, color=INK, linewidth=1.0, linestyle=":")
    ax.axvspan(0, threshold, color=_tint(ORANGE, 0.88), zorder=0)
    ax.axvspan(threshold, 3.05, color=_tint(GREEN, 0.88), zorder=0)
    sweet = x_under[np.argmin(test_error(x_under))]
    ax.plot([sweet], [test_error(np.array([sweet]))[0]], "o", color=RED, markersize=7)
    ax.annotate(
        "U자 곡선의 최적점",
        (sweet, test_error(np.array([sweet]))[0]),
        xytext=(0.06, 0.06),
        textcoords="axes fraction",
        fontsize=10,
        arrowprops={"arrowstyle": "->", "color": INK},
    )
    ax.text(
        threshold + 0.04, 0.9, "보간 임계점\n(학습 오차가 0이 되는 크기)", fontsize=10, va="top"
    )
    ax.text(0.5, 1.02, "고전적 영역: 편향-분산 트레이드오프", ha="center", fontsize=10.5)
    ax.text(2.05, 1.02, "현대적 영역: 보간하면서도 다시 내려간다", ha="center", fontsize=10.5)
    ax.text(
        2.7, test_error(np.array([2.7]))[0] + 0.05, "시험 오차", color=RED, fontsize=11, ha="center"
    )
    ax.text(0.62, train_error(np.array([0.62]))[0] + 0.03, "학습 오차", color=BLUE, fontsize=11)
    ax.set_xlim(0, 3.05)
    ax.set_ylim(-0.03, 1.1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("모델 용량 (파라미터 수) →", fontsize=11)
    ax.set_ylabel("오차", fontsize=11)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.text(3.02, 0.6, "개념도 (측정값 아님)", ha="right", va="bottom", fontsize=9, color=GREY)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- chapter 5


def prompting_and_specialising() -> Figure:
    """Chapter 5: two ways to get more from a small LM: change the input, or adapt weights."""
    fig, ax = _figure(11.5, 5.4)
    strategies = [
        ("제로샷", "지시만 쓴다"),
        ("퓨샷", "예시 몇 개를 보여 준다"),
        ("사고의 사슬 (CoT)", "풀이 과정이 담긴 예시"),
        ("제로샷 CoT", "\u201c차근차근 생각해 보자\u201d"),
        ("자기 일관성", "여러 풀이를 뽑아 다수결"),
        ("제약 디코딩", "허용된 답만 생성하게 막는다"),
    ]
    ax.text(
        2.0,
        5.05,
        "프롬프트 엔지니어링: 입력과 디코딩만 바꾼다",
        ha="center",
        fontsize=11.5,
        color=BLUE,
    )
    for i, (name, what) in enumerate(strategies):
        y = 4.35 - 0.7 * i
        _box(ax, (2.0, y), (3.4, 0.56), f"{name}: {what}", BLUE, fontsize=10)
        _arrow(ax, (3.72, y), (4.75, 2.6), color=_tint(BLUE, 0.3), width=1.1)
    _box(ax, (5.75, 2.6), (1.9, 1.3), "작은 언어 모델\n(가중치 고정)", GREY, fontsize=11)
    _box(ax, (5.75, 0.75), (1.9, 0.6), "답", GREY, fontsize=11)
    _arrow(ax, (5.75, 1.93), (5.75, 1.07))

    ax.text(9.3, 5.05, "특화: 가중치를 조금 바꾼다 (LoRA)", ha="center", fontsize=11.5, color=GREEN)
    from matplotlib.patches import Rectangle

    def block(x: float, y: float, w: float, h: float, color: str, label: str) -> None:
        ax.add_patch(
            Rectangle((x, y), w, h, facecolor=_tint(color, 0.55), edgecolor=color, linewidth=1.4)
        )
        ax.text(x + w / 2, y + h / 2, label, ha="center", va="center", fontsize=11)

    block(7.55, 2.4, 1.6, 1.6, GREY, "W\n(고정)")
    ax.text(9.4, 3.2, "+", fontsize=18, ha="center", va="center")
    block(9.75, 2.4, 0.32, 1.6, GREEN, "B")
    block(10.2, 3.68, 1.0, 0.32, GREEN, "A")
    ax.text(
        9.3,
        1.85,
        "작은 행렬 B·A만 학습한다 (원래 가중치의 작은 일부)",
        ha="center",
        fontsize=9.5,
        color=GREEN,
    )
    _box(ax, (9.3, 0.75), (2.6, 0.6), "한 과제에 맞춘 모델 → 답", GREEN, fontsize=10.5)
    _arrow(ax, (9.3, 1.6), (9.3, 1.07))
    ax.plot([6.95, 6.95], [0.3, 5.2], color=GREY, linewidth=1, linestyle=":")
    return fig


# ----------------------------------------------------------------------------- chapter 6


def react_loop() -> Figure:
    """Chapter 6: the ReAct loop: thought → action → tool → observation → thought … → answer."""
    fig, ax = _figure(11.0, 5.2)
    question = (1.3, 2.6)
    thought, action, tool, observation = (4.2, 4.1), (7.9, 4.1), (7.9, 1.1), (4.2, 1.1)
    answer = (9.9, 2.6)
    _box(ax, question, (1.9, 0.9), "질문\n(목표)", GREY, fontsize=11)
    _box(ax, thought, (2.6, 0.95), "생각 (Thought)\n무엇을 해야 하나?", BLUE, fontsize=10.5)
    _box(ax, action, (2.6, 0.95), "행동 (Action)\n도구 이름 + 입력", ORANGE, fontsize=10.5)
    _box(ax, tool, (2.6, 0.95), "도구 실행\n계산기 · 검색 · 글자 세기", GREY, fontsize=10.5)
    _box(ax, observation, (2.6, 0.95), "관찰 (Observation)\n도구가 돌려준 글", GREEN, fontsize=10.5)
    _box(ax, answer, (1.8, 0.9), "최종 답\n(Final Answer)", PURPLE, fontsize=10.5)
    _arrow(ax, (question[0] + 0.95, question[1] + 0.2), (thought[0] - 1.3, thought[1] - 0.3))
    _arrow(ax, (thought[0] + 1.3, thought[1]), (action[0] - 1.3, action[1]))
    _arrow(ax, (action[0], action[1] - 0.48), (tool[0], tool[1] + 0.48))
    _arrow(ax, (tool[0] - 1.3, tool[1]), (observation[0] + 1.3, observation[1]))
    _arrow(ax, (observation[0], observation[1] + 0.48), (thought[0], thought[1] - 0.48))
    ax.text(
        6.05,
        2.6,
        "모델이 글로 쓰고,\n루프가 읽어서 실행한다",
        ha="center",
        va="center",
        fontsize=10,
        color=INK,
    )
    _arrow(
        ax,
        (thought[0] + 0.6, thought[1] + 0.48),
        (answer[0], answer[1] + 0.45),
        color=PURPLE,
        rad=-0.35,
    )
    ax.text(9.6, 4.95, "답을 알면 끝낸다", fontsize=10, color=PURPLE, ha="center")
    ax.text(
        1.3,
        4.75,
        "멈춤 조건\n최대 단계 · 같은 행동의 반복\n형식 오류 한도",
        ha="center",
        va="center",
        fontsize=9.5,
        color=INK,
        bbox={"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": GREY},
    )
    ax.text(
        4.2,
        0.2,
        "주의: 관찰 속의 지시처럼 보이는 글이 프롬프트 주입의 통로가 된다",
        ha="center",
        fontsize=9.5,
        color=RED,
    )
    return fig


# ----------------------------------------------------------------------------- registry

DIAGRAMS: dict[str, Callable[[], Any]] = {
    "ch00_course_map": course_map,
    "ch01_causal_mask": causal_mask,
    "ch02_instructgpt_pipeline": instructgpt_pipeline,
    "ch03_induction_head": induction_head,
    "ch04_double_descent": double_descent_schematic,
    "ch05_prompting_and_specialising": prompting_and_specialising,
    "ch06_react_loop": react_loop,
}


def write_all(folder: Path, names: Sequence[str] | None = None) -> list[Path]:
    """Render ``names`` (default: every diagram) to ``folder/<name>.svg``; return the paths.

    A file whose bytes would not change is left alone, so a rebuild does not see a new file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names or list(DIAGRAMS):
        data = svg_bytes(DIAGRAMS[name]())
        path = folder / f"{name}.svg"
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        paths.append(path)
    return paths
