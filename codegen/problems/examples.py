"""Examples written in prose in a docstring, read as (arguments, expected value) pairs.

People (and HumanEval) write examples in many shapes besides doctest's ``>>>``:

    add(2, 3) == 5          add(2, 3) ➞ 5        add(2, 3) => 5       add(2, 3) returns 5
    add(2, 3) should return 5.                   add(2, 3)  # returns 5
    For a = 2, b = 3 the output should be 5      Input: a = 2, b = 3 / Output: 5

Prose spells some values its own way: ``true``/``false``/``none`` in any case, and a single
unquoted word as an argument (``encode(test) ➞ 'TGST'``) is a string, unless it names a
parameter (``is_prime(n) returns True if…`` is a description, not an example). When the
docstring's examples call the function by another name (``sumSquares([1, 2]) == 5``) and only
one such name appears, that name is the function's.

Only examples whose arguments and expected value are Python literals are kept; anything else is
skipped silently, since prose is not a format. Nothing here runs code: ``ast.literal_eval`` only.
An example can still be wrong or misread, so the ranking treats these as soft evidence (see
:mod:`codegen.ranking.soft_tests`), never as the user's own tests.
"""

from __future__ import annotations

import ast
import builtins
import io
import itertools
import keyword
import re
import tokenize
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from codegen.problems.model import is_plain

ARROW = re.compile(
    r"\s*(?:#\s*)?(?:==>|=>|==|=|➞|→|->|returns?\b|should\s+(?:return|be)\b)\s*:?", re.I
)
FOR_FORM = re.compile(
    r"\bfor\s+(?P<args>[A-Za-z_]\w*\s*=.+?)\s*,?\s+the\s+(?:output|result)\s+"
    r"(?:should\s+be|will\s+be|is)\s*:?\s*(?P<want>.+)$",
    re.I,
)
INPUT_LINE = re.compile(r"^\s*(?:\*\s*)?input\s*:\s*(?P<args>.*)$", re.I)
NAMED_VALUE = re.compile(r"^\s*(?P<name>[A-Za-z_]\w*)\s*[:=]\s*(?P<value>\S.*)$")
OUTPUT_LINE = re.compile(r"^\s*(?:\*\s*)?output\s*:\s*(?P<want>.+)$", re.I)
VALUE_TOKENS = (tokenize.OP, tokenize.NUMBER, tokenize.STRING, tokenize.NAME)
PARSE_ERRORS = (SyntaxError, ValueError, TypeError, MemoryError, RecursionError)
MAX_EXAMPLE_CHARS = 2000  # one example's call or value; longer is not an example (and costly)
MAX_TRIES = 20  # prefixes of a value tried, longest first
MAX_CALLS = 200  # calls of the entry point looked at in one docstring
MAX_ALIASES = 5  # other names tried, in order of appearance, when the entry point has none
WORDS = {"true": "True", "false": "False", "none": "None", "null": "None"}
WORD_VALUES = {"true": True, "false": False, "none": None, "null": None}
NOT_ALIASES = frozenset(dir(builtins)) | frozenset(keyword.kwlist)
ANY_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\(")


@dataclass(frozen=True)
class CallExample:
    """``entry(*args)`` should equal ``expected``; ``line``: 1-based, in the docstring here and
    in the stub once loaded (:func:`codegen.problems.stub.parse_stub`)."""

    args: tuple[Any, ...]
    expected: Any
    line: int
    decimals: int | None = None  # digits after the point of a written float: its precision


def prose_examples(
    docstring: str, entry: str, params: Sequence[str], others: Collection[str] = ()
) -> list[CallExample]:
    """Every example found, in docstring order, without duplicates. ``others``: the other
    functions the stub defines, whose examples are theirs, never the entry point's."""
    calls = _call_form(docstring, entry, params)
    if not calls:
        calls = _aliased_calls(docstring, params, {entry, *others})
    found = [*calls, *_for_form(docstring, params)]
    found += _input_output_form(docstring, params)
    unique: dict[str, CallExample] = {}
    for example in sorted(found, key=lambda e: e.line):
        unique.setdefault(repr(example.args), example)
    return list(unique.values())


def call_arguments(
    source: str, entry: str, params: Sequence[str], *, prose: bool = False
) -> tuple[Any, ...] | None:
    """The literal arguments of ``source`` when it is exactly one call of ``entry``
    (a doctest example's source), else None. ``prose`` reads prose's spellings too."""
    if len(source) > MAX_EXAMPLE_CHARS:
        return None
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except PARSE_ERRORS:
        return None
    call = tree.body
    if isinstance(call, ast.Compare):  # ``f(1) == 2``, a doctest written as an assertion
        call = call.left
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        return None
    if call.func.id != entry:
        return None
    return _arguments(_prose_spellings(call, params) if prose else call, params)


def _aliased_calls(doc: str, params: Sequence[str], taken: set[str]) -> list[CallExample]:
    """The examples of the one other name the docstring calls with examples, if exactly one."""
    calls = itertools.islice(ANY_CALL.finditer(doc), MAX_CALLS)
    names = dict.fromkeys(m[1] for m in calls if m[1] not in taken and m[1] not in NOT_ALIASES)
    found = {}
    for name in itertools.islice(names, MAX_ALIASES):
        examples = _call_form(doc, name, params)
        if examples:
            found[name] = examples
    return next(iter(found.values())) if len(found) == 1 else []


def _prose_spellings(call: ast.Call, params: Sequence[str]) -> ast.Call:
    """``true``/``false``/``none`` (any case) become constants; a bare word that is a whole
    argument becomes a string, unless it names a parameter or is one letter."""

    class Spellings(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            word = node.id.lower()
            return ast.Constant(WORD_VALUES[word]) if word in WORD_VALUES else node

    def argument(node: ast.expr) -> ast.expr:
        if (
            isinstance(node, ast.Name)
            and node.id.lower() not in WORD_VALUES
            and node.id not in params
            and len(node.id) > 1
        ):
            return ast.Constant(node.id)
        return Spellings().visit(node)

    return ast.Call(
        call.func,
        [argument(arg) for arg in call.args],
        [ast.keyword(kw.arg, argument(kw.value)) for kw in call.keywords],
    )


def _call_form(doc: str, entry: str, params: Sequence[str]) -> list[CallExample]:
    examples = []
    calls = re.finditer(rf"(?<![\w.]){re.escape(entry)}\s*\(", doc)
    for match in itertools.islice(calls, MAX_CALLS):
        before = doc[max(0, match.start() - 20) : match.start()].rstrip()
        if before.endswith("def"):
            continue
        end = _closing(doc, match.end() - 1)
        if end is None:
            continue
        args = call_arguments(doc[match.start() : end + 1], entry, params, prose=True)
        if args is None:
            continue
        rest = doc[end + 1 :].split("\n", 1)[0]
        arrow = ARROW.match(rest)
        if arrow:
            want_text = rest[arrow.end() :]
        elif not rest.strip() and before.endswith(">>>"):
            want_text = _next_line(doc, end)  # a doctest that doctest itself could not parse
        else:
            continue
        example = _example(args, want_text, _line_of(doc, match.start()))
        if example is not None:
            examples.append(example)
    return examples


def _for_form(doc: str, params: Sequence[str]) -> list[CallExample]:
    examples = []
    for number, line in enumerate(doc.splitlines(), 1):
        match = FOR_FORM.search(line) if len(line) <= MAX_EXAMPLE_CHARS else None
        if match:
            args = _keyword_arguments(match["args"], params)
            example = _example(args, match["want"], number) if args is not None else None
            if example is not None:
                examples.append(example)
    return examples


def _input_output_form(doc: str, params: Sequence[str]) -> list[CallExample]:
    """``Input: ...`` followed within three lines by ``Output: ...``; or ``Input:`` alone, then
    one ``name : value`` line per argument, then ``Output: ...``."""
    lines = doc.splitlines()
    examples = []
    for index, line in enumerate(lines):
        given = INPUT_LINE.match(line) if len(line) <= MAX_EXAMPLE_CHARS else None
        if not given:
            continue
        text = given["args"].strip()
        following = lines[index + 1 : index + 2 + max(2, len(params))]
        if not text:
            named = [NAMED_VALUE.match(later) for later in following]
            text = ", ".join(f"{m['name']}={m['value']}" for m in named if m)
        for later in following:
            output = OUTPUT_LINE.match(later)
            if output:
                args = _keyword_arguments(text, params, by_order=True)
                example = _example(args, output["want"], index + 1) if args is not None else None
                if example is not None:
                    examples.append(example)
                break
    return examples


def _keyword_arguments(
    text: str, params: Sequence[str], by_order: bool = False
) -> tuple[Any, ...] | None:
    """``a = 1, b = [2]`` or ``1, [2]``; the longest prefix (cut at commas) that parses, so
    ``N = 1000, the sum of digits will be 1`` still gives ``(1000,)``. ``by_order``: names
    that are not the parameters' are taken in order when there are as many."""
    if len(text) > MAX_EXAMPLE_CHARS:
        return None
    cuts = [len(text)] + [m.start() for m in re.finditer(",", text)][::-1]
    for cut in cuts:
        try:
            tree = ast.parse(f"_({text[:cut]})", mode="eval")
        except PARSE_ERRORS:
            continue
        if isinstance(tree.body, ast.Call):
            args = _arguments(tree.body, params)
            keywords = tree.body.keywords
            if args is None and by_order and not tree.body.args and len(keywords) == len(params):
                values = [keyword.value for keyword in keywords]
                args = _arguments(ast.Call(tree.body.func, values, []), params)
            if args is not None:
                return args
    return None


def _arguments(call: ast.Call, params: Sequence[str]) -> tuple[Any, ...] | None:
    """Literal positional arguments, keywords placed by parameter name; None otherwise."""
    try:
        values = [ast.literal_eval(arg) for arg in call.args]
        named = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except PARSE_ERRORS:
        return None
    if any(isinstance(arg, ast.Starred) for arg in call.args) or None in named:
        return None
    for name in params[len(values) :]:
        if name not in named:
            break
        values.append(named.pop(name))
    if named or not values or len(values) > len(params) or not is_plain(values):
        return None
    return tuple(values)


def _example(args: tuple[Any, ...], want_text: str, line: int) -> CallExample | None:
    value = _literal_prefix(want_text)
    if value is None or not _round_trips((args, value[0])):
        return None
    expected, written = value
    decimals = None
    if isinstance(expected, float) and "." in written and "e" not in written.lower():
        decimals = len(written.split(".", 1)[1].strip().rstrip("."))
    return CallExample(args=args, expected=expected, line=line, decimals=decimals)


def _literal_prefix(text: str) -> tuple[Any, str] | None:
    """The value of the longest literal that starts ``text`` (``'No' (because…)`` gives 'No'),
    after the last ``=`` when there is one (``1 + 9 = 10`` gives 10); lowercase true/false/
    none are read as Python's. Returns (value, its text)."""
    text = text.strip()[:MAX_EXAMPLE_CHARS]
    if "=" in text:
        tail = text.rsplit("=", 1)[1]
        found = _literal_prefix(tail) if "=" not in tail else None
        if found is not None and _equation(text):
            return found
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, *PARSE_ERRORS):
        return None
    ends = []
    depth = 0
    for token in tokens:
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth -= 1
        if depth == 0 and token.type in VALUE_TOKENS:
            ends.append(token.end[1] if token.end[0] == 1 else None)
        if depth < 0 or token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT):
            break
    for end in sorted({e for e in ends if e}, reverse=True)[:MAX_TRIES]:
        written = text[:end].strip().rstrip(".,;")
        if not written or text[end : end + 1] not in ("", " ", "\t", ".", ",", ";", "#"):
            continue  # ``""abc"`` is a typo, not the string ""
        value = literal_value(WORDS.get(written.lower(), written))
        if value is not None:
            return value[0], written
    return None


def _round_trips(value: Any) -> bool:
    """Written back as a literal, it reads the same: not ``1e999`` (inf), not nested past what
    the parser takes. Generated test files hold examples as literals."""
    try:
        return bool(ast.literal_eval(repr(value)) == value)
    except PARSE_ERRORS:
        return False


def _equation(text: str) -> bool:
    """``19 - 5 - 6 = 8``: an arithmetic working-out, not a literal containing ``=``."""
    head = text.rsplit("=", 1)[0]
    return not any(quote in head for quote in "'\"")


def literal_value(text: str) -> tuple[Any] | None:
    """``(value,)`` when ``text`` is a literal of builtin data, else None (a value may be None)."""
    try:
        value = ast.literal_eval(text)
    except PARSE_ERRORS:
        return None
    return (value,) if is_plain(value) else None


def _closing(text: str, open_at: int) -> int | None:
    """Index of the bracket closing ``text[open_at]``, skipping quoted strings; None past
    MAX_EXAMPLE_CHARS."""
    depth, quote, index = 0, "", open_at
    while index < min(len(text), open_at + MAX_EXAMPLE_CHARS):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


def _next_line(doc: str, after: int) -> str:
    for line in doc[after:].split("\n")[1:]:
        if line.strip():
            return line
    return ""


def _line_of(doc: str, index: int) -> int:
    return doc.count("\n", 0, index) + 1
