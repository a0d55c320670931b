"""Test helpers that other suites reuse: a scripted OpenAI-compatible server on loopback."""

from codegen.testing.fake_openai import FakeOpenAIServer, Reply, Script

__all__ = ["FakeOpenAIServer", "Reply", "Script"]
