"""Pull one candidate program out of a model's reply. Pure: text in, code (or a reason) out.

Replies come in many shapes: one fenced block, several blocks (helpers, the function, a usage
example), prose around unfenced code, the stub restated with `...` before the real answer, or
just the body of the function. The rules, in order:

1. strip `<think>` sections; take the fenced Python blocks, or else the code-looking runs of
   lines of an unfenced reply; a block cut short (max_tokens) keeps its whole statements;
2. drop top-level statements that are not definitions (calls, asserts, `if __name__ ...`), so a
   candidate never runs its own examples on import;
3. the candidate is the *last* block that defines the entry point with a real body (models
   restate, then refine), preceded by the other blocks that only hold imports and helpers;
4. a reply holding only the function's body is grafted onto the stub;
5. whatever does not parse, or does not define the entry point, is rejected with a reason;
6. the candidate becomes a clean module (:mod:`codegen.generation.snippet`): only what the
   entry point reaches, its imports made explicit, no test code or stray comments; one that
   uses undefined names is rejected. What is tested is exactly what is returned. A function
   that lives in a module may use what the module defines (``module``).
"""

from __future__ import annotations

import ast
import functools
import re
import textwrap
from collections.abc import Sequence

from codegen.generation.prune import UndefinedNames
from codegen.generation.snippet import clean_snippet, is_noise

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<marker>`{3,}|~{3,})\s*(?P<lang>[\w+.-]*)[^\n]*$")
_PY_LANGS = {"", "python", "py", "python3", "py3", "ipython", "pycon"}
_CODE_START = re.compile(r"^(?:(?:async\s+def|def|class|import|from\s+[\w.]+\s+import)\b|@)")
_CODE_CONTINUE = re.compile(
    r"^(?:\s|$|#|[)\]}]|(?:if|elif|else|for|while|try|except|finally|with|return|raise|"
    r"global|nonlocal)\b|[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*(?:[-+*/%&|^]?=|\(|\[|:))"
)
_STUB_BODY = (ast.Pass, ast.Raise)


class ExtractionError(ValueError):
    """The reply holds no usable candidate; the message says why in a few words."""


class EmptyReply(ExtractionError):
    """The model answered with no text at all."""


def extract_code(
    reply: str | None,
    entry_point: str,
    stub: str | None = None,
    import_sources: Sequence[str] = (),
    module: str | None = None,
) -> str:
    """Return the candidate source for `entry_point` found in `reply`, or raise ExtractionError.
    A name the code uses but does not import is imported as the stub or one of
    `import_sources` (the version being repaired or optimised) does; ``module``: the source of
    the module the function lives in, whose names it may use."""
    if reply is None or not reply.strip():
        raise ExtractionError("empty reply")
    return _extract(reply, entry_point, stub, tuple(import_sources), module)


@functools.lru_cache(maxsize=256)
def _extract(
    reply: str,
    entry_point: str,
    stub: str | None,
    import_sources: tuple[str, ...],
    module: str | None,
) -> str:
    """Remembered: samples of one model often write the same reply, and each parse (and the
    pyflakes pass) costs the event loop milliseconds while the other replies arrive."""
    text = _THINK.sub("", reply).strip("\n")
    if not text.strip():
        raise ExtractionError("reply holds only reasoning")
    blocks = fenced_blocks(text)
    if blocks is None:
        blocks = unfenced_segments(text)
    if not blocks:
        raise ExtractionError("no Python code in reply")
    parsed = [_sanitise(b) for b in blocks]
    usable = [code for code in parsed if code is not None and code.strip()]
    code = _assemble(usable, entry_point)
    if code is None and stub is not None:
        code = _graft_body(blocks, stub, entry_point)
    if code is None:
        if any(_defines(c, entry_point) for c in usable):
            raise ExtractionError(f"reply only restates the stub of {entry_point}")
        if not usable:
            raise ExtractionError("code in reply does not parse")
        raise ExtractionError(f"reply does not define {entry_point}")
    sources = [stub, *import_sources] if stub is not None else list(import_sources)
    try:
        return clean_snippet(code, entry_point, sources, module)
    except UndefinedNames as error:
        raise ExtractionError(str(error)) from None


def fenced_blocks(text: str) -> list[str] | None:
    """The Python-looking fenced blocks, or None when the reply has no fences at all.

    An unterminated last fence (a reply cut by max_tokens) runs to the end of the text.
    """
    lines = text.splitlines()
    blocks: list[str] = []
    saw_fence = False
    i = 0
    while i < len(lines):
        opened = _FENCE_OPEN.match(lines[i])
        if not opened:
            i += 1
            continue
        saw_fence = True
        marker, lang = opened["marker"], opened["lang"].lower()
        close = re.compile(rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}\s*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        if lang in _PY_LANGS:
            blocks.append("\n".join(lines[i + 1 : j]))
        i = j + 1
    return blocks if saw_fence else None


def unfenced_segments(text: str) -> list[str]:
    """Runs of code-looking lines in a reply without fences; the whole text if it parses."""
    if _parses(textwrap.dedent(text)):
        return [textwrap.dedent(text)]
    lines = text.splitlines()
    segments: list[str] = []
    i = 0
    while i < len(lines):
        if not _CODE_START.match(lines[i]):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and (_CODE_START.match(lines[j]) or _CODE_CONTINUE.match(lines[j])):
            j += 1
        end = j
        while end > i and not _parses("\n".join(lines[i:end])):
            end -= 1
        if end > i:
            segments.append("\n".join(lines[i:end]).rstrip())
            i = end
        else:
            i += 1
    if not segments and _looks_like_body(text):
        segments.append(text)  # only the function body: `_graft_body` may still use it
    return segments


def is_stub_only(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A body of nothing but a docstring, `pass`, `...` or a raise: the stub, not an answer."""
    body = list(func.body)
    if body and _is_docstring(body[0]):
        body = body[1:]
    for node in body:
        if isinstance(node, _STUB_BODY):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # `...` or a stray string
        return False
    return True


def _assemble(blocks: list[str], entry_point: str) -> str | None:
    real = [i for i, code in enumerate(blocks) if _defines(code, entry_point, real=True)]
    if not real:
        return None
    chosen = real[-1]
    parts = [
        code
        for i, code in enumerate(blocks)
        if i == chosen or (code.strip() and not _defines(code, entry_point))
    ]
    code = "\n\n\n".join(parts).strip("\n") + "\n"
    return code if _parses(code) else blocks[chosen].strip("\n") + "\n"


def _graft_body(blocks: list[str], stub: str, entry_point: str) -> str | None:
    """A completion-style reply (just the body) placed under the stub's signature.

    Only text that cannot stand alone qualifies (a bare `return` does not parse at top level);
    a block of complete definitions is an answer to judge as it is.
    """
    for block in blocks:
        body = textwrap.dedent(block).strip("\n")
        if not body.strip() or _parses(body):
            continue
        code = stub.rstrip() + "\n" + textwrap.indent(body, "    ") + "\n"
        sanitised = _sanitise(code)
        if sanitised and _defines(sanitised, entry_point, real=True):
            return sanitised
    return None


def _sanitise(block: str) -> str | None:
    """Dedent, parse, and drop top-level statements that are not definitions. A block that
    does not parse keeps its longest run of whole top-level statements that does: a reply cut
    by max_tokens in the middle of its test code still holds a complete function."""
    source = textwrap.dedent(block).strip("\n")
    if not _parses(source):
        prefix = _parsing_prefix(source)
        if prefix is None:
            return None
        source = prefix
    tree = ast.parse(source)
    drop = [node for node in tree.body if is_noise(node)]
    if not drop:
        return source + "\n"
    lines = source.splitlines()
    for node in reversed(drop):
        start, end = node.lineno - 1, node.end_lineno or node.lineno
        del lines[start:end]
    kept = "\n".join(lines).strip("\n") + "\n"
    if _parses(kept):
        return kept if kept.strip() else ""
    tree.body = [node for node in tree.body if not is_noise(node)]
    return ast.unparse(tree) + "\n"


def _parsing_prefix(source: str) -> str | None:
    """The longest prefix of `source` that ends before a top-level statement and parses."""
    lines = source.splitlines()
    starts = [i for i, line in enumerate(lines)
              if i and line[:1].strip() and line[:1] not in "#)]}"]  # fmt: skip
    for cut in reversed(starts):
        prefix = "\n".join(lines[:cut]).rstrip()
        if prefix.strip() and _parses(prefix):
            return prefix
    return None


def _defines(code: str, entry_point: str, *, real: bool = False) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == entry_point
            and (not real or not is_stub_only(node))
        ):
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == entry_point for t in node.targets
        ):
            return True
    return False


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _looks_like_body(text: str) -> bool:
    return bool(re.match(r"^( {2,}|\t)\S", text)) or text.lstrip().startswith("return ")


def _parses(source: str) -> bool:
    """Compiles, not just parses: `return` outside a function must count as broken."""
    try:
        compile(source, "<candidate>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True
