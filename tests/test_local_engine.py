"""The engine is installed once per user, in an environment of its own in the cache, and every
codegen install starts its servers from there (pre-commit's virtualenv included).

Most tests stand a small wheel in for the engine: the same distribution name and version, an
`xllamacpp` module whose `Server` answers the health check on loopback, so that the real
`xllamacpp_server.py` runs against it. Everything else is real: `python -m venv`, pip (offline:
--no-index, the stand-in's folder as --find-links), the runtime's server processes. One test
installs the real wheel from the registry with the installed CLI; the real engine serving the
real model is proven by the model-marked tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.request import urlopen

import pytest

from codegen.errors import EnvironmentProblem
from codegen.local_models import engine
from codegen.local_models.assemble import gguf_path
from codegen.local_models.catalog import DEFAULT_MODEL, MODELS
from codegen.local_models.runtime import LocalRuntime

pytestmark = pytest.mark.slow

FAKE_ENGINE = '''"""Stands in for xllamacpp: CommonParams and a Server that answers /v1/models."""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace


class CommonParams:
    def __init__(self):
        self.model = SimpleNamespace(path="")
        self.cpuparams = SimpleNamespace(n_threads=-1)
        self.cpuparams_batch = SimpleNamespace(n_threads=-1)
        self.model_alias, self.hostnames, self.port = set(), ["127.0.0.1"], 8080


class Server:
    def __init__(self, params):
        if os.environ.get("FAKE_XLLAMACPP_FAIL"):
            raise RuntimeError(os.environ["FAKE_XLLAMACPP_FAIL"])
        (alias,) = params.model_alias

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps({"data": [{"id": alias}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        http = ThreadingHTTPServer((params.hostnames[0], params.port), Handler)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        self.listening_address = f"http://{params.hostnames[0]}:{params.port}"
'''


def _fake_wheel(folder: Path) -> Path:
    """xllamacpp-<version>-py3-none-any.whl holding the stand-in module."""
    name = f"xllamacpp-{engine.ENGINE_VERSION}"
    path = folder / f"{name}-py3-none-any.whl"
    files = {
        "xllamacpp/__init__.py": FAKE_ENGINE,
        f"{name}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: xllamacpp\nVersion: {engine.ENGINE_VERSION}\n"
        ),
        f"{name}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{file},,\n" for file in files) + f"{name}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as wheel:
        for file, text in {**files, f"{name}.dist-info/RECORD": record}.items():
            wheel.writestr(file, text)
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user cache; pip sees the stand-in wheel and nothing else."""
    monkeypatch.setenv("CODEGEN_CACHE", str(tmp_path / "cache"))
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _fake_wheel(wheels)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return tmp_path / "cache"


def test_the_engine_goes_into_the_cache_once_and_every_install_finds_it(cache: Path) -> None:
    assert not engine._installed_here()  # this environment has no engine of its own
    assert engine.engine_python() is None and not engine.engine_installed()
    python = engine.ensure_engine()
    assert python == cache / "engine" / f"xllamacpp-{engine.ENGINE_VERSION}" / "bin" / "python"
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


def _pulled_stand_in() -> None:
    """The default model's file as a sparse stand-in of the right size, stamped as pulled."""
    model = MODELS[DEFAULT_MODEL]
    target = gguf_path(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        handle.truncate(model.size)
    stat = target.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": model.sha256}
    target.with_name(target.name + ".stamp.json").write_text(json.dumps(stamp))


def test_the_runtime_starts_its_servers_from_the_cached_engine(cache: Path, tmp_path: Path) -> None:
    engine.ensure_engine()
    _pulled_stand_in()
    with LocalRuntime([DEFAULT_MODEL], slots=1, log_dir=tmp_path / "logs") as runtime:
        (pid,) = runtime.pids
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert command[0].decode() == str(engine.engine_python())
        assert command[1].decode() == str(engine.SERVER_SCRIPT)
        assert len(runtime.endpoints) == 1
        with urlopen(f"{runtime.endpoints[0].api_base}/models", timeout=10) as response:
            assert json.load(response)["data"][0]["id"] == DEFAULT_MODEL


def test_without_an_engine_the_error_names_the_one_command(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CODEGEN_CACHE", str(tmp_path / "empty"))
    with pytest.raises(EnvironmentProblem, match=r"run `codegen models pull` once"):
        LocalRuntime([DEFAULT_MODEL])._preflight()


def test_a_server_that_cannot_start_says_why_in_one_line(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.ensure_engine()
    _pulled_stand_in()
    monkeypatch.setenv("FAKE_XLLAMACPP_FAIL", "failed to load model")
    runtime = LocalRuntime([DEFAULT_MODEL], slots=1, log_dir=tmp_path / "logs")
    with pytest.raises(EnvironmentProblem) as raised:
        runtime.start()
    assert "exited with 1: xllamacpp_server: cannot serve" in str(raised.value)
    assert str(raised.value).split(" (log: ")[0].endswith("failed to load model")
    assert runtime.pids == []


def test_models_pull_installs_the_real_engine_from_the_registry(tmp_path: Path) -> None:
    """The path a newcomer takes, with the installed CLI: a prebuilt wheel, no build; the
    native library loads on this CPU and the server script's parameters exist in it."""
    cli = Path(sys.executable).with_name("codegen")
    env = {**os.environ, "CODEGEN_CACHE": str(tmp_path / "cache")}
    pulled = subprocess.run([str(cli), "models", "pull", "--no-model"],
                            capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert pulled.returncode == 0, pulled.stderr
    home = tmp_path / "cache" / "engine" / f"xllamacpp-{engine.ENGINE_VERSION}"
    assert f"engine: {engine.REQUIREMENT} in {home}" in pulled.stdout
    probe = (
        f"import sys; sys.path.insert(0, {str(engine.SERVER_SCRIPT.parent)!r})\n"
        "import xllamacpp, xllamacpp_server as script\n"
        "args = script.parse(['--model', 'm', '--alias', 'a', '--port', '1', '--threads', '1'])\n"
        "params = script.server_params(args)\n"
        "print(xllamacpp.__version__, params.n_parallel, params.cpuparams.n_threads)\n"
    )
    loaded = subprocess.run([str(home / "bin" / "python"), "-c", probe],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert loaded.stdout.split() == [engine.ENGINE_VERSION, "1", "1"], loaded.stderr
    listed = subprocess.run([str(cli), "models", "list"], capture_output=True, text=True,
                            env={**env, "COLUMNS": "300"}, timeout=120)  # fmt: skip
    assert f"engine {engine.REQUIREMENT}: ready ({home}/bin/python)" in listed.stdout
