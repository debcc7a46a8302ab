"""Errors of the community services. Each carries the HTTP status the web layer answers with."""

from __future__ import annotations


class CommunityError(Exception):
    """A refused community action; ``str(error)`` is a sentence for the person who tried it."""

    status = 400


class Invalid(CommunityError):
    """The input was wrong (empty, too long, unknown category, ...)."""

    status = 422


class NotFound(CommunityError):
    """No such comment, report or lesson."""

    status = 404


class Forbidden(CommunityError):
    """The account may not do this (wrong role, not the writer, suspended)."""

    status = 403


class Conflict(CommunityError):
    """The action repeats one already done (a duplicate comment)."""

    status = 409


class RateLimited(CommunityError):
    """Too many actions in a short time; ``retry_after`` is in seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
