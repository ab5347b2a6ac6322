"""Pydantic models shared by every stage: the canonical event and what is derived from it."""
