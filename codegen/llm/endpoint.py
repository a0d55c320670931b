"""A model and how to reach it: the one type shared by the workers that write candidates and
the judges that rank them (pure data, no I/O)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Endpoint(BaseModel):
    """One litellm model string, where it is served, its key and its sampling settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1, description="litellm model string, e.g. openai/gpt-4o-mini")
    name: str | None = Field(
        default=None,
        description="the model as the user named it, for reports: an embedded model is "
        "`qwen2.5-coder-0.5b` to the user and `openai/qwen2.5-coder-0.5b` to litellm "
        "(default: model)",
    )
    api_base: str | None = None
    api_key_env: str | None = Field(
        default=None, description="environment variable holding the key (else litellm's default)"
    )
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=1024, ge=16, le=32768)
    timeout_s: float = Field(
        default=120.0, gt=0.0, le=3600.0, description="hard deadline of one attempt"
    )

    @property
    def shown(self) -> str:
        """The name reports and displays use: the user's, never the routing string."""
        return self.name or self.model
