"""The versioned result of one run, and how learner output is made inert.

A :class:`RunResult` is what every caller of the runner gets back; its JSON
form (:meth:`RunResult.to_json`) is the contract with the web page and the
grader, described field by field in ``docs/runner.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

#: Version of the JSON shape produced by :meth:`RunResult.to_json`.
RESULT_VERSION = 1

Status = Literal["ok", "error", "timeout", "memory", "output_limit", "killed", "busy"]
STATUSES: tuple[str, ...] = ("ok", "error", "timeout", "memory", "output_limit", "killed", "busy")

# C0 controls except tab, newline and carriage return; DEL; C1 controls (which
# include the one-character CSI, U+009B); and the bidirectional overrides and
# isolates that can make displayed code differ from what runs.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def make_inert(data: bytes | str) -> str:
    """Decode learner output and make terminal escapes harmless.

    Args:
        data: raw bytes (decoded as UTF-8, invalid sequences become U+FFFD) or
            an already decoded string.

    Returns:
        Text where every control character other than tab, newline and
        carriage return is spelled out, e.g. ESC becomes the four characters
        ``\\x1b``, so no terminal or page interprets it.
    """
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    return _UNSAFE.sub(_visible, text)


#: An escape make_inert was writing when a cap cut it short (``\\x0``, ``\\u20``, a lone ``\\``).
_PARTIAL_ESCAPE = re.compile(r"\\(?:x[0-9a-f]?|u[0-9a-f]{0,3})?\Z")


def _cut(text: str, size: int) -> str:
    """The longest start of ``text`` whose UTF-8 encoding fits ``size`` bytes, ending on no half escape."""
    head = text.encode("utf-8")[:size].decode("utf-8", errors="ignore")
    return _PARTIAL_ESCAPE.sub("", head) if len(head) < len(text) else head


def cap_output(stdout: str, stderr: str, budget: int) -> tuple[str, str, bool]:
    """Cut inert stdout and stderr so that together they are at most ``budget`` UTF-8 bytes.

    :func:`make_inert` spells each control byte out in four characters, so output that stayed
    under the run's byte cap can grow fourfold; this caps what is sent. When both streams are
    longer than half the budget each keeps half; otherwise the shorter one is kept whole and
    the other gets the rest.

    Args:
        stdout, stderr: inert text (from :func:`make_inert`).
        budget: the most UTF-8 bytes of both together (``RunLimits.output_bytes``).

    Returns:
        ``(stdout, stderr, cut)``; ``cut`` is True when anything was removed. A cut never
        ends inside a spelled-out escape or a multi-byte character.
    """
    out_size, err_size = len(stdout.encode("utf-8")), len(stderr.encode("utf-8"))
    if out_size + err_size <= budget:
        return stdout, stderr, False
    half = budget // 2
    if out_size <= half:
        return stdout, _cut(stderr, budget - out_size), True
    if err_size <= half:
        return _cut(stdout, budget - err_size), stderr, True
    return _cut(stdout, half), _cut(stderr, budget - half), True


@dataclass
class RunResult:
    """Outcome of one run (see ``docs/runner.md`` for the JSON schema).

    Attributes:
        status: one of :data:`STATUSES`.
        stdout, stderr: learner output, inert text, together at most
            ``RunLimits.output_bytes`` bytes before decoding.
        truncated: True when output was cut at the cap (the bytes the program wrote,
            or the spelled-out text sent; see :func:`cap_output`).
        exit_code: the child's exit status from waitpid, None when it was
            ended by a signal or never started.
        duration_ms: wall time from handing the code over to the end, in ms.
        cpu_ms: CPU time of the whole run (all its processes), in ms.
        traceback: the learner's exception trimmed to frames of their own
            code (``main.py``), with line numbers, or None.
        message: a sentence for the learner when a limit or the runner
            stopped the run ("stopped after 5 s of CPU time"), else None.
        images: ``[{"mime": "image/png", "data": base64 str}]``, one per open
            Matplotlib figure at the end of the run.
        modules: module trees, one per nn.Module object bound to a global name.
        report: what the grading harness passed to ``report(obj)``, or None.
        harness_error: the harness's own traceback when it raised, or None.
    """

    status: str
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    exit_code: int | None = None
    duration_ms: float = 0.0
    cpu_ms: float = 0.0
    traceback: str | None = None
    message: str | None = None
    images: list[dict[str, str]] = field(default_factory=list)
    modules: list[dict[str, Any]] = field(default_factory=list)
    report: Any = None
    harness_error: str | None = None
    version: int = RESULT_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown run status {self.status!r}; expected one of {STATUSES}")

    @property
    def ok(self) -> bool:
        """True when the run finished normally with exit status 0."""
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        """Return the result as a JSON-serialisable dict (the versioned contract).

        A new top-level dict; ``images``, ``modules`` and ``report`` are the
        result's own (already plain JSON data), not copies: ``asdict`` deep-copied
        every module tree, 0.4 ms of each ``POST /api/run``.
        """
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        """Rebuild a result from :meth:`to_json` output; unknown keys are ignored.

        Raises:
            ValueError: when ``status`` is not a known status.
        """
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def busy(cls, retry_after_s: float) -> RunResult:
        """Result for a run refused because every slot and the queue were full."""
        return cls(
            status="busy",
            message=f"the runner is busy; try again in {retry_after_s:.0f} s",
        )
