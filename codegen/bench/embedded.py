"""The embedded models in a leaderboard run: `codegen bench run --models qwen2.5-coder-0.5b,…`.

Each embedded model named in ``--models`` or ``--judges`` gets one server of its own
(:class:`~codegen.local_models.LocalRuntime` with ``slots=1``: on a small machine the cores are
split between the models rather than between slots of one model), started for the run and
stopped when it ends, however it ends. The run keeps the names as typed (in the run key, the
store and the leaderboard, so the same command resumes the same run); ``BenchSpec.routes``
sends each to its server as ``openai/<name>``.

A server answers one request at a time. The runner lets one request at a time go to each, for
the whole run (every problem in flight shares that gate), so a request's deadline starts when
the server takes it up. The default deadline is still long (:data:`EMBEDDED_TIMEOUT_S`): a 1.5B
model writing a thousand tokens on one core of a busy machine takes minutes. An embedded judge
asks one request at a time per problem and waits in its server's queue, under that deadline.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from codegen.bench.executors import Executor, LocalExecutor
from codegen.bench.runner import BenchSpec, Route
from codegen.errors import BadInput
from codegen.local_models import MODELS, LocalRuntime
from codegen.local_models.runtime import ServerCommand

EMBEDDED_TIMEOUT_S = 900.0  # per request, when --timeout is not given


def embedded_names(spec: BenchSpec) -> list[str]:
    """The embedded models among the run's models and judges, in order, once each."""
    return list(dict.fromkeys(name for name in (*spec.models, *spec.judges) if name in MODELS))


@contextlib.contextmanager
def serve_embedded(
    spec: BenchSpec,
    executor: Executor,
    *,
    timeout_s: float | None = None,
    command: ServerCommand | None = None,
    log_dir: Path | None = None,
) -> Iterator[BenchSpec]:
    """Serve the run's embedded models, one server each, and yield ``spec`` routed to them
    (``spec`` itself when there are none); the servers stop when the block ends. A model that
    is not pulled is an EnvironmentProblem naming `codegen models pull`, as in `codegen solve`.
    ``timeout_s``: their deadline per request (default :data:`EMBEDDED_TIMEOUT_S`)."""
    names = embedded_names(spec)
    if not names:
        yield spec
        return
    _check_reachable(spec, executor, names)
    with LocalRuntime(names, slots=1, command=command, log_dir=log_dir) as runtime:
        deadline = timeout_s or EMBEDDED_TIMEOUT_S
        routes = {
            e.model.name: Route(model=e.litellm_model, api_base=e.api_base, timeout_s=deadline)
            for e in runtime.endpoints
        }
        yield dataclasses.replace(spec, routes={**spec.routes, **routes})


def _check_reachable(spec: BenchSpec, executor: Executor, names: list[str]) -> None:
    """The servers listen on this machine's loopback: only calls made here can reach them."""
    models = [n for n in names if n in spec.models]
    if models and (executor.generator is not None or executor.tester is not None):
        raise BadInput(
            f"--ray-generation asks the models from the cluster's nodes, which cannot reach the "
            f"embedded model {models[0]!r} served on this machine: leave --ray-generation out"
        )
    judges = [n for n in names if n in spec.judges]
    if judges and not isinstance(executor, LocalExecutor):
        raise BadInput(
            f"the jury sits on the cluster's nodes, which cannot reach the embedded judge "
            f"{judges[0]!r} served on this machine: use --executor local or another judge"
        )
