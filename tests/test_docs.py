"""The documentation builds: `mkdocs build --strict` (broken links, missing anchors and pages
left out of the nav are errors), as CI runs it with the rest of the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.cli_support import ROOT


def test_the_docs_build_strictly(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"),
         "--config-file", str(ROOT / "mkdocs.yml")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "measurements" / "index.html").is_file()


def test_every_page_is_in_the_nav_and_the_pages_others_write_are_there() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def pages(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [p for item in node for p in pages(item)]
        if isinstance(node, dict):
            return [p for value in node.values() for p in pages(value)]
        return []

    in_nav = set(pages(config["nav"]))
    on_disk = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert in_nav == on_disk
    assert {"service.md", "defaults.md", "confidence.md"} <= in_nav
