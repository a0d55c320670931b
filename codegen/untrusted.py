"""Text written by candidates, models or judges is shown, never obeyed.

A terminal obeys escape sequences and rich obeys markup; either would let untrusted code repaint
or hide what the user reads. Everything such text goes through here first.
"""

from __future__ import annotations

from rich.text import Text

# C0 and C1 control characters but newline and tab, shown as \xNN instead of obeyed.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\n\t"}


def visible(text: str) -> str:
    """`text` with its control characters made visible."""
    return text.translate(_CONTROL)


def plain(text: str, style: str = "") -> Text:
    """Untrusted text for rich: no markup, no terminal control sequences."""
    return Text(visible(text), style=style)
