"""The one model layer: every request to a language model, for generation and for the jury,
goes through here.

- ``endpoint``: :class:`Endpoint`, a model and how to reach it (pure data);
- ``client``: litellm (and the OpenAI SDK for OpenAI-compatible servers), set up once: routing
  and keys, one attempt under a hard deadline, which errors are worth a retry, and how each
  failure is classified;
- ``throttle``: :class:`Throttle`, the in-flight caps shared by everything a run sends.

litellm is imported by ``client`` only, and only when a request is about to be made.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no cost-map download at import

from codegen.llm.endpoint import Endpoint  # noqa: E402

__all__ = ["Endpoint"]
