"""The one model layer: every request to a language model, for generation, the tester and the
jury, goes through here.

- ``endpoint``: :class:`Endpoint`, a model and how to reach it (pure data);
- ``model``: the seam, :class:`ModelClient` (one attempt: a ``ModelReply`` or a typed error);
- ``errors``: :class:`ModelError` and its kinds (rate limit, timeout, unavailable, refusal,
  auth, bad request), pure;
- ``client``: litellm (and the OpenAI SDK for OpenAI-compatible servers), set up once: routing
  and keys, one attempt under a hard deadline, and the one mapping of provider exceptions to
  typed errors; :class:`LiteLLMClient` is the ModelClient of real runs;
- ``throttle``: :class:`Throttle`, the in-flight caps shared by everything a run sends, and
  ``ask``, the one retry loop;
- ``scripted``: :class:`ScriptedModel`, the in-memory ModelClient for tests.

litellm is imported by ``client`` only, and only when a request is about to be made.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no cost-map download at import

from codegen.llm.endpoint import Endpoint  # noqa: E402

__all__ = ["Endpoint"]
