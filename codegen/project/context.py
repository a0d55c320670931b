"""The module context of a function in a project's file: where the module sits (its dotted
name, the folder its package is imported from), the project's own tests that use the function,
and what the models are shown of it (:mod:`codegen.project.repomap`). Reads files; runs
nothing."""

from __future__ import annotations

from pathlib import Path

from codegen.problems.model import ModuleContext
from codegen.project import DEFAULT_CONTEXT_TOKENS
from codegen.project.layout import as_imported, find_layout
from codegen.project.repomap import repo_map
from codegen.project.tests import importing_modules, repository_tests

__all__ = ["DEFAULT_CONTEXT_TOKENS", "module_context"]


def module_context(
    path: Path,
    source: str,
    entry_point: str,
    top: Path | None,
    max_tokens: int = DEFAULT_CONTEXT_TOKENS,
) -> ModuleContext:
    """The context of ``entry_point`` in the module at ``path`` (text ``source``), within the
    repository whose top is ``top``; the models see at most ``max_tokens`` of it."""
    layout = find_layout(path, top, source)
    if layout.module:  # the name the project's own tests import it by, if they do
        names = importing_modules(layout.root, layout.module, entry_point)
        layout = as_imported(layout, path, names)
    where = layout.relative(path)
    shown = repo_map(source, entry_point, layout, max_tokens, where) if max_tokens else None
    return ModuleContext(
        source=source,
        path=where,
        module=layout.module or None,
        import_path=layout.import_path,
        repository_tests=repository_tests(layout, entry_point) if layout.module else (),
        prompt=shown.text if shown else "",
        prompt_tokens=shown.tokens if shown else 0,
        root=str(layout.root),
    )
