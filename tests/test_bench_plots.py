"""The report's plots are legible: no label is written over another, a plot with nothing to
show says why, and a model with one timed problem still shows on the efficiency plot.

The figures are matplotlib's own; text positions are measured with its renderer."""

from __future__ import annotations

from itertools import combinations

import pytest

from codegen.bench.metrics import Leaderboard, ModelSummary
from codegen.bench.plots import FIGURES, PLOTS, wrap


def _board(cost: float = 0.0) -> Leaderboard:
    """A crowded board: long names, two models and the ensemble at one point, a model with
    one timed problem whose ratio is 1.02 (a box of zero height on the 1× line)."""
    models = [
        ModelSummary(name="qwen2.5-coder-0.5b", problems=5, pass1=0.4, median_latency_s=13.2,
                     efficiency=[1.02], cost_usd=cost),
        ModelSummary(name="qwen2.5-coder-1.5b", problems=5, pass1=0.8, median_latency_s=16.9,
                     efficiency=[0.98, 1.01], cost_usd=cost),
        ModelSummary(name="anthropic/claude-3-5-haiku-20241022", problems=5, pass1=0.8,
                     median_latency_s=16.9, cost_usd=2 * cost),
        ModelSummary(name="openai/gpt-4o-mini", problems=5, pass1=0.0, median_latency_s=2.1),
    ]  # fmt: skip
    return Leaderboard(
        run="crowded", problems_total=5, problems_done=5, problems_infra=0,
        problems_suite_error=0, models=models,
        ensemble=ModelSummary(name="ensemble", problems=5, pass1=0.8, median_latency_s=16.9,
                              efficiency=[1.0, 1.01], cost_usd=3 * cost),
        oracle=ModelSummary(name="oracle", problems=5, pass1=1.0),
    )  # fmt: skip


def _labels(figure):  # noqa: ANN001, ANN202
    """Every visible, non-empty text of the figure with its box on the canvas."""
    from matplotlib.text import Text

    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    return [
        (text.get_text(), text.get_window_extent(renderer))
        for text in figure.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]


@pytest.mark.parametrize("cost", [0.0, 0.01])
@pytest.mark.parametrize("name", list(FIGURES))
def test_no_two_labels_of_a_plot_overlap(name: str, cost: float) -> None:
    figure = FIGURES[name](_board(cost))
    try:
        labels = _labels(figure)
        overlapping = [(a, b) for (a, box_a), (b, box_b) in combinations(labels, 2)
                       if box_a.overlaps(box_b)]  # fmt: skip
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)
    assert overlapping == [], f"{name}: labels written over each other: {overlapping}"


def test_every_model_is_named_once_in_the_scatter_legends() -> None:
    for name in ("pass-vs-latency", "pass-vs-cost"):
        svg = PLOTS[name](_board(cost=0.01))
        for model in ("qwen2.5-coder-0.5b", "anthropic/claude-3-5-haiku-20241022", "ensemble"):
            assert svg.count(f">{model}<") == 1, (name, model)


def test_a_plot_with_nothing_to_show_says_why() -> None:
    free = PLOTS["pass-vs-cost"](_board(cost=0.0))
    assert "no cost recorded" in free and "total cost (USD)" not in free
    untimed = _board().model_copy(update={"models": [], "ensemble": ModelSummary(
        name="ensemble", problems=5, pass1=0.0)})  # fmt: skip
    assert "no timed passing candidate" in PLOTS["efficiency"](untimed)


def test_a_single_timed_problem_still_shows_on_the_efficiency_plot() -> None:
    """One ratio of 1.02 drew a box of zero height on the dashed 1× line: an empty-looking
    plot. Every ratio is a point now, and each model's median is written above it."""
    figure = FIGURES["efficiency"](_board())
    try:
        points = sum(len(c.get_offsets()) for c in figure.axes[0].collections)
        texts = [t for t, _ in _labels(figure)]
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)
    assert points == 1 + 2 + 2  # 0.5b, 1.5b and the ensemble's ratios
    assert {"1.02×", "1.00×"} <= set(texts)


def test_long_names_wrap_after_the_provider() -> None:
    assert (
        wrap("anthropic/claude-3-5-haiku-20241022") == "anthropic/\nclaude-3-5-\nhaiku-\n20241022"
    )
    assert wrap("ensemble") == "ensemble"
