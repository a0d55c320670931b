"""The leaderboard page: markdown, and the offline HTML page rendered by headless Chromium
(Debian's `chromium`, installed here when missing) to a screenshot that must show the table and
the plots."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from codegen.bench.metrics import summarize
from codegen.bench.plots import COLORS, ENSEMBLE_COLOR, PLOTS
from codegen.bench.report import html_page, markdown
from tests.test_bench_metrics import _run

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def _chromium() -> str:
    """The browser, installed with apt when missing (CI starts from a fresh machine)."""
    found = shutil.which("chromium")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "chromium"]
        if subprocess.run(install, env=env, capture_output=True, timeout=600).returncode:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
            subprocess.run(install, env=env, capture_output=True, timeout=600)
        found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is missing: `apt-get install -y chromium` (or `make chromium`)")
    return found


def _render(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def _pixels(png: Path) -> tuple[int, int, set[tuple[int, int, int]]]:
    """(width, height, distinct RGB colours) of an 8-bit, non-interlaced RGB(A) PNG."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        offset += 12 + length
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color_type in (2, 6) and interlace == 0
    channels = 3 if color_type == 2 else 4
    raw, stride = zlib.decompress(idat), width * channels
    previous, colours = bytearray(stride), set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (
                    line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)
                ) & 255
        colours.update(tuple(line[i : i + 3]) for i in range(0, stride, channels))
        previous = line
    return width, height, colours


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_markdown_leaderboard_has_every_model_and_the_ensemble() -> None:
    text = markdown(summarize(_run()))
    assert "| model | pass@1 |" in text
    for row in ("| a | 25.0% |", "| b | 50.0% |", "| **ensemble (pick)** | 100.0% |"):
        assert row in text
    assert "1 with infrastructure errors" in text


def test_markdown_has_the_reliability_table_of_the_picks_confidence() -> None:
    text = markdown(summarize(_run(pick_b="bad")))
    assert "## Calibration of the pick's confidence" in text
    assert "| confidence | picks | mean confidence | pick passes |" in text
    for row in ("| 0.0–0.2 | 0 | – | – |", "| 0.4–0.6 | 1 | 0.50 | 0.0% |",
                "| 0.8–1.0 | 1 | 0.90 | 100.0% |"):  # fmt: skip
        assert row in text
    brier = (0.1**2 + 0.5**2) / 2
    ece = (0.1 + 0.5) / 2
    assert "2 pick(s) with a confidence" in text
    assert f"Brier score {brier:.3f}, expected calibration error {ece:.3f}" in text


@pytest.mark.slow
def test_html_page_renders_offline_in_chromium_with_table_and_plots(tmp_path: Path) -> None:
    run = _run()
    page = tmp_path / "index.html"
    page.write_text(html_page(summarize(run), run), encoding="utf-8")
    source = page.read_text()
    assert "<script" not in source and 'src="http' not in source and 'href="http' not in source

    dom = _render(page, tmp_path / "profile-dom", "--dump-dom").stdout
    assert dom.count('<table id="leaderboard"') == 1
    assert dom.count("<tr>") >= 4  # header, a, b, ensemble
    reliability = dom.index('<table id="reliability"')
    assert "0.8–1.0" in dom[reliability : reliability + 2000]
    for name in PLOTS:
        figure = dom.index(f'id="plot-{name}"')
        assert "<svg" in dom[figure : figure + 400]

    shot = tmp_path / "page.png"
    _render(page, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1300,1700")
    width, height, colours = _pixels(shot)
    assert (width, height) == (1300, 1700)
    assert len(colours) > 50  # text, table borders and plots, not a blank page
    for colour in (COLORS[0], COLORS[1], ENSEMBLE_COLOR):  # the bars of a, b and the ensemble
        assert _rgb(colour) in colours, f"{colour} is not on the screenshot"
