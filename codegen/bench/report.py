"""The leaderboard as markdown and as one static, offline HTML page (inline SVG, no scripts)."""

from __future__ import annotations

import html

from codegen.bench.metrics import ENSEMBLE, Leaderboard, ModelSummary, Reliability
from codegen.bench.plots import PLOTS
from codegen.bench.records import ProblemStatus, RunData

COLUMNS = ("model", "pass@1", "pass@k", "problems", "samples", "median latency (s)",
           "cost (USD)", "tokens", "median efficiency", "model errors", "infra errors")  # fmt: skip
RELIABILITY_COLUMNS = ("confidence", "picks", "mean confidence", "pick passes")


def _fmt(value: float | None, digits: int = 3, percent: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.1f}%" if percent else f"{value:.{digits}f}"


def _cells(m: ModelSummary) -> list[str]:
    pass_k = ", ".join(f"@{k} {_fmt(v, percent=True)}" for k, v in m.pass_at.items() if k > 1)
    name = "**ensemble (pick)**" if m.name == ENSEMBLE else m.name
    return [
        name,
        _fmt(m.pass1, percent=True),
        pass_k or "–",
        str(m.problems),
        str(m.samples),
        _fmt(m.median_latency_s, 2),
        _fmt(m.cost_usd, 4),
        str(m.tokens),
        _fmt(m.median_efficiency, 2) + ("×" if m.median_efficiency is not None else ""),
        str(m.model_errors),
        str(m.infra_errors),
    ]


def ranked(board: Leaderboard) -> list[ModelSummary]:
    return sorted([*board.models, board.ensemble], key=lambda m: -(m.pass1 or 0.0))


def markdown(board: Leaderboard) -> str:
    lines = [
        f"# Leaderboard: {board.run}",
        "",
        _status_line(board),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(_cells(m)) + " |" for m in ranked(board)]
    lines += ["", *_verdict_lines(board)]
    lines += ["", "## Calibration of the pick's confidence", "", _calibration_line(board)]
    if board.reliability.picks:
        lines += [
            "",
            "| " + " | ".join(RELIABILITY_COLUMNS) + " |",
            "|" + "---|" * len(RELIABILITY_COLUMNS),
        ]
        lines += ["| " + " | ".join(row) + " |" for row in _reliability_rows(board.reliability)]
    return "\n".join(lines) + "\n"


def _reliability_rows(table: Reliability) -> list[list[str]]:
    return [
        [
            f"{b.low:.1f}–{b.high:.1f}",
            str(b.count),
            _fmt(b.mean_confidence, 2),
            _fmt(b.accuracy, percent=True),
        ]  # fmt: skip
        for b in table.bins
    ]


def _calibration_line(board: Leaderboard) -> str:
    table = board.reliability
    if not table.picks:
        return "No pick with a confidence yet."
    return (
        f"{table.picks} pick(s) with a confidence (how likely the pick is right: the models that "
        f"agree on it, the model-written tests, the visible tests): Brier score "
        f"{_fmt(table.brier)}, expected "
        f"calibration error {_fmt(table.ece)} (0 is perfect for both)."
    )


def _status_line(board: Leaderboard) -> str:
    line = f"{board.problems_done}/{board.problems_total} problems evaluated"
    if board.problems_infra:
        line += f"; {board.problems_infra} with infrastructure errors (re-run to retry)"
    if board.problems_suite_error:
        line += f"; {board.problems_suite_error} whose tests do not load"
    line += f"; total cost {board.total_cost_usd:.4f} USD"
    if board.tester_cost_usd:
        line += f" (the tester's {board.tester_cost_usd:.4f})"
    return line + "."


def _verdict_lines(board: Leaderboard) -> list[str]:
    ensemble = board.ensemble.pass1
    if ensemble is None:
        return []
    lines = [f"- Oracle (any candidate passes): {_fmt(board.oracle.pass1, percent=True)}; "
             f"the ensemble's pick reaches {_fmt(ensemble, percent=True)}."]  # fmt: skip
    for model, gap in board.ensemble_minus_model.items():
        word = "beats" if gap > 0 else "trails" if gap < 0 else "ties"
        lines.append(f"- Ensemble {word} {model} by {100 * abs(gap):.1f} points of pass@1.")
    lines.append("- Efficiency: median CPU time of passing code over the canonical solution's, "
                 "timed together in one container (1.00× = as fast).")  # fmt: skip
    return lines


def html_page(board: Leaderboard, run: RunData) -> str:
    e = html.escape
    header = "".join(f"<th>{e(c)}</th>" for c in COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{e(c.replace('**', ''))}</td>" for c in _cells(m)) + "</tr>"
        for m in ranked(board)
    )
    figures = "".join(
        f'<figure id="plot-{name}" class="plot">{draw(board)}</figure>'
        for name, draw in PLOTS.items()
    )
    notes = "".join(f"<li>{e(line[2:])}</li>" for line in _verdict_lines(board))
    calibration = f"<p>{e(_calibration_line(board))}</p>"
    if board.reliability.picks:
        head = "".join(f"<th>{e(c)}</th>" for c in RELIABILITY_COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
            for row in _reliability_rows(board.reliability)
        )
        calibration += f'<table id="reliability" class="reliability"><tr>{head}</tr>{body}</table>'
    return _PAGE.format(
        title=e(f"Leaderboard: {board.run}"),
        status=e(_status_line(board)),
        header=header,
        rows=rows,
        notes=notes,
        calibration=calibration,
        figures=figures,
        problems=_problem_table(board, run),
        config=e(", ".join(f"{k}={v}" for k, v in run.config.items())),
    )


def _problem_table(board: Leaderboard, run: RunData) -> str:
    e = html.escape
    models = [m.name for m in board.models]
    names = ["problem", "status", *models, "ensemble", "confidence"]
    head = "".join(f"<th>{e(m)}</th>" for m in names)
    body = []
    for record in run.problems:
        cells = [record.problem, record.status.value]
        for model in models:
            mine = [s for s in record.samples if s.model == model]
            passed = sum(record.sample_passed(s) for s in mine)
            done = record.status is ProblemStatus.DONE
            cells.append(f"{passed}/{len(mine)}" if done and mine else "–")
        cells.append(
            "–" if record.pick_passed is None else "pass" if record.pick_passed else "fail"
        )
        cells.append(_fmt(record.confidence, 2))
        body.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
    return f'<table class="problems"><tr>{head}</tr>{"".join(body)}</table>'


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; max-width: 1400px; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #bbb; padding: 4px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
th {{ background: #eee; }}
.plots {{ display: grid; grid-template-columns: repeat(2, 1fr); gap: 1em; }}
figure.plot {{ margin: 0; }} figure.plot svg {{ width: 100%; height: auto; }}
table.problems {{ font-size: 85%; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{status}</p>
<table id="leaderboard" class="leaderboard"><tr>{header}</tr>{rows}</table>
<ul>{notes}</ul>
<h2>Calibration of the pick's confidence</h2>
{calibration}
<h2>Plots</h2>
<div class="plots">{figures}</div>
<h2>Per problem</h2>
{problems}
<p><small>Configuration: {config}</small></p>
</body></html>
"""
