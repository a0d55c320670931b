"""Can litellm route a model string? Answered from litellm's own data files, without importing
litellm (its import takes about 7 s here), so that a typo in `--models` is refused at once.

litellm routes `provider/name` by its provider list (the `LlmProviders` enum and the providers
it configures from JSON), and a bare name such as `gpt-4o-mini` by its price list. Those files
are read from the installed package; when they cannot be read (another layout, another
version), :func:`routable` says None and the caller asks litellm itself, slowly but exactly.

    routable("openai/gpt-4o-mini")    # True
    routable("gpt-4o-mini")           # True: a bare name litellm knows
    routable("qwen2.5-coder-05b")     # False
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
from collections.abc import Collection, Iterable
from functools import cache
from pathlib import Path

from codegen.errors import BadInput

_ENUM = re.compile(r"^class LlmProviders\(.*?^(?=\S)", re.DOTALL | re.MULTILINE)
_MEMBER = re.compile(r'^\s+[A-Z0-9_]+\s*=\s*"([^"]+)"', re.MULTILINE)


def _package() -> Path | None:
    """The installed litellm folder, found without running its __init__."""
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _json_keys(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {key for key in data if isinstance(key, str) and not key.startswith("_")}


@cache
def providers() -> frozenset[str] | None:
    """The provider prefixes litellm routes (`openai`, `anthropic`, `ollama`, …)."""
    package = _package()
    if package is None:
        return None
    try:
        source = (package / "types" / "utils.py").read_text(encoding="utf-8")
    except OSError:
        return None
    enum = _ENUM.search(source)
    if enum is None:
        return None
    names = set(_MEMBER.findall(enum.group(0)))
    names |= _json_keys(package / "llms" / "openai_like" / "providers.json")
    names |= _json_keys(package / "provider_endpoints_support_backup.json")
    return frozenset(names) if names else None


@cache
def priced_models() -> frozenset[str]:
    """The model names of litellm's bundled price list (`gpt-4o-mini`, `claude-3-5-haiku-…`)."""
    package = _package()
    if package is None:
        return frozenset()
    return frozenset(_json_keys(package / "model_prices_and_context_window_backup.json"))


def routable(model: str) -> bool | None:
    """True when litellm routes `model` without an api_base of its own; False when it does
    not; None when litellm's files cannot be read here (ask litellm)."""
    known = providers()
    if known is None:
        return None
    prefix, slash, _ = model.partition("/")
    if slash and prefix in known:
        return True
    return model in priced_models() or model.startswith("ft:")


def check_names(names: Iterable[str], embedded: Collection[str]) -> None:
    """BadInput naming the first of `names` that is neither an embedded model nor a string
    litellm routes, with the nearest embedded name; quick, so commands call it first."""
    for name in names:
        if name and name not in embedded and routable(name) is False:
            raise BadInput(unknown_model(name, embedded))


def unknown_model(name: str, embedded: Collection[str]) -> str:
    near = difflib.get_close_matches(name, list(embedded), n=1, cutoff=0.8)
    hint = f"did you mean {near[0]!r}? " if near else ""
    short = name.split("/")[-1]
    return (
        f"unknown model {name!r}: {hint}use litellm's provider/model form (e.g. openai/{short}, "
        f"anthropic/{short}) or an embedded model ({', '.join(embedded)})"
    )
