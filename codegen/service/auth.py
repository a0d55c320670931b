"""Who is calling: bearer tokens, compared in constant time and never logged or stored (a job's
owner is a hash of its token).

- No tokens (loopback only): every caller is the one ``anonymous`` owner.
- Tenant tokens (``CODEGEN_API_TOKENS``): each token is an owner, who sees only its own jobs.
- An admin token (``codegen serve --admin-token-file``), optional: it sees and may cancel every
  job, and its own submissions are its own like anyone's.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException

from codegen.errors import BadInput

TOKENS_ENV = "CODEGEN_API_TOKENS"
ANONYMOUS = "anonymous"
MAX_TOKEN = 4096


@dataclass(frozen=True)
class Caller:
    owner: str
    admin: bool = False

    @property
    def sees(self) -> str | None:
        """The owner whose jobs this caller may see: None for the admin (every job)."""
        return None if self.admin else self.owner


class Auth:
    def __init__(self, tokens: tuple[str, ...] = (), admin_token: str | None = None) -> None:
        self.tokens = [token.encode() for token in tokens]
        self.admin = admin_token.encode() if admin_token else None

    @property
    def required(self) -> bool:
        return bool(self.tokens) or self.admin is not None

    def caller(self, authorization: str | None) -> Caller:
        """The caller named by an ``Authorization: Bearer TOKEN`` header, or 401."""
        if not self.required:
            return Caller(ANONYMOUS)
        scheme, _, given = (authorization or "").partition(" ")
        token = given.strip().encode()[:MAX_TOKEN]
        tenant = False
        for expected in self.tokens:  # every token compared, in constant time
            tenant |= hmac.compare_digest(token, expected)
        admin = self.admin is not None and hmac.compare_digest(token, self.admin)
        if scheme.lower() != "bearer" or not (tenant or admin):
            raise HTTPException(401, "a valid API token is required: Authorization: Bearer …",
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        return Caller(hashlib.sha256(token).hexdigest()[:16], admin=admin)


def tokens_from_env() -> tuple[str, ...]:
    return tuple(t.strip() for t in os.environ.get(TOKENS_ENV, "").split(",") if t.strip())


def read_admin_token(path: Path) -> str:
    """The admin token from its file (kept out of the environment and the process list)."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read the admin token: {error}") from None
    if not token or len(token) < 16 or any(c.isspace() for c in token):
        raise BadInput(f"{path}: the admin token must be one word of at least 16 characters")
    return token
