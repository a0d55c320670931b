"""The engine is installed once per user, in an environment of its own in the cache, and every
codegen install starts its servers from there (pre-commit's virtualenv included).

The real engine takes minutes to build, so these tests stand a small wheel in for it: the same
distribution name and version, a `llama_cpp.server` that answers the health check on loopback.
Everything else is real: the wheel cache, `python -m venv`, pip (offline: --no-index), the
runtime's server processes. The real engine is proven by the model-marked tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from codegen.local_models import engine
from codegen.local_models.assemble import gguf_path
from codegen.local_models.catalog import DEFAULT_MODEL, MODELS
from codegen.local_models.runtime import LocalRuntime

pytestmark = pytest.mark.slow

FAKE_SERVER = '''"""Answers the runtime's health check the way llama_cpp.server does."""
import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--host")
parser.add_argument("--port", type=int)
parser.add_argument("--model_alias")
args, _ = parser.parse_known_args()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"data": [{"id": args.model_alias}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


ThreadingHTTPServer((args.host, args.port), Handler).serve_forever()
'''


def _fake_wheel(folder: Path) -> Path:
    """llama_cpp_python-<version>-<this python>-none-any.whl, with a `server` extra."""
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    name = f"llama_cpp_python-{engine.ENGINE_VERSION}"
    path = folder / f"{name}-{tag}-none-any.whl"
    files = {
        "llama_cpp/__init__.py": "",
        "llama_cpp/server/__init__.py": "",
        "llama_cpp/server/app.py": "",
        "llama_cpp/server/__main__.py": FAKE_SERVER,
        f"{name}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: llama-cpp-python\nVersion: {engine.ENGINE_VERSION}\n"
            "Provides-Extra: server\n"
        ),
        f"{name}.dist-info/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}-none-any\n"
        ),
    }
    record = "".join(f"{file},,\n" for file in files) + f"{name}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as wheel:
        for file, text in {**files, f"{name}.dist-info/RECORD": record}.items():
            wheel.writestr(file, text)
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user cache holding only the built wheel, as after a first build."""
    monkeypatch.setenv("CODEGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # the wheel cache and nothing else
    engine.wheels_dir().mkdir(parents=True)
    _fake_wheel(engine.wheels_dir())
    return tmp_path / "cache"


def test_the_engine_goes_into_the_cache_once_and_every_install_finds_it(cache: Path) -> None:
    assert not engine._installed_here()  # this environment has no engine of its own
    assert engine.engine_python() is None and not engine.engine_installed()
    python = engine.ensure_engine()
    assert (
        python == cache / "engine" / f"llama-cpp-python-{engine.ENGINE_VERSION}" / "bin" / "python"
    )
    assert engine.engine_python() == python and engine.engine_installed()
    stamp = (python.parent.parent / "codegen-engine.json").stat().st_mtime_ns
    assert engine.ensure_engine() == python  # the second time: nothing to do
    assert (python.parent.parent / "codegen-engine.json").stat().st_mtime_ns == stamp
    # another environment (a bare interpreter here, pre-commit's virtualenv in real life) sees
    # the same engine through the same cache
    other = subprocess.run(
        [sys.executable, "-c", "from codegen.local_models import engine; "
         "print(engine.engine_python())"],
        capture_output=True, text=True, env={**os.environ}, timeout=120,
    )  # fmt: skip
    assert other.stdout.strip() == str(python), other.stderr


def test_the_runtime_starts_its_servers_from_the_cached_engine(cache: Path, tmp_path: Path) -> None:
    engine.ensure_engine()
    model = MODELS[DEFAULT_MODEL]
    target = gguf_path(model)  # a sparse stand-in of the right size, stamped as pulled
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        handle.truncate(model.size)
    stat = target.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": model.sha256}
    target.with_name(target.name + ".stamp.json").write_text(json.dumps(stamp))
    with LocalRuntime([DEFAULT_MODEL], slots=1, log_dir=tmp_path / "logs") as runtime:
        (pid,) = runtime.pids
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert command[0].decode() == str(engine.engine_python())
        assert command[1:3] == [b"-m", b"llama_cpp.server"]
        assert len(runtime.endpoints) == 1


def test_without_an_engine_the_error_names_the_one_command(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CODEGEN_CACHE", str(tmp_path / "empty"))
    from codegen.errors import EnvironmentProblem

    with pytest.raises(EnvironmentProblem, match=r"run `codegen models pull` once"):
        LocalRuntime([DEFAULT_MODEL])._preflight()


def test_the_cached_wheel_is_one_this_interpreter_can_install(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CODEGEN_CACHE", str(tmp_path))
    engine.wheels_dir().mkdir(parents=True)
    other = "cp39" if sys.version_info[:2] != (3, 9) else "cp310"
    name = f"llama_cpp_python-{engine.ENGINE_VERSION}"
    (engine.wheels_dir() / f"{name}-{other}-{other}-linux_x86_64.whl").write_bytes(b"")
    assert engine.cached_wheel() is None
    built = engine.wheels_dir() / f"{name}-py3-none-linux_x86_64.whl"  # what `pip wheel` makes
    built.write_bytes(b"")
    assert engine.cached_wheel() == built
