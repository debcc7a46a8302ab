"""The core of the check API: the failure exception and the learner's submission.

Split from :mod:`questlab.grading.api` so that the probes and diagnoses can use
it without a circular import (the sandbox loads these modules in order).
"""

from __future__ import annotations

import ast
import linecache
from dataclasses import dataclass, field
from typing import Any

ASPECTS = ("any", "structure", "parameters", "forward", "hooks", "state", "output")

#: File name the runner compiles learner code under (see questlab.runner.child).
LEARNER_FILE = "main.py"


class CheckFailed(Exception):
    """A check's verdict: the learner's code does not do what was asked.

    Args:
        key: a message key of :data:`questlab.grading.messages.MESSAGES`, or ``None``
            to use the check's own ``ko``/``en`` sentence.
        params: values for the message's placeholders (JSON-serialisable).
        text: an author's sentence per locale, overriding ``key``.
        context: facts for the diagnoses (not shown), e.g. ``{"expected_layers": {...}}``.
    """

    def __init__(
        self,
        key: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        text: dict[str, str] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(key or (text or {}).get("en", "check failed"))
        self.key = key
        self.params = params or {}
        self.text = text
        self.context = context or {}


@dataclass
class Submission:
    """What the learner's program left behind, handed to every check.

    Attributes:
        ns: the learner's global namespace after the run.
        exception: the exception that ended the learner's program, or ``None``.
        stdout: everything the learner's program printed (before the checks ran).
    """

    ns: dict[str, Any]
    exception: BaseException | None = None
    stdout: str = ""
    _models: dict[str, Any] = field(default_factory=dict)

    # -- source ----------------------------------------------------------------
    @property
    def source(self) -> str:
        """The learner's source code."""
        return "".join(linecache.getlines(LEARNER_FILE))

    def tree(self) -> ast.Module | None:
        """The learner's code parsed by :mod:`ast`, or ``None`` when it does not parse."""
        try:
            return ast.parse(self.source)
        except SyntaxError:
            return None

    # -- modules ---------------------------------------------------------------
    def module_class(self, name: str | None = None) -> type:
        """The nn.Module subclass the learner defined, by ``name`` or the only/last one.

        Raises:
            CheckFailed: ``no_module_class`` when there is none.
        """
        import torch

        classes = [
            v
            for v in self.ns.values()
            if isinstance(v, type)
            and issubclass(v, torch.nn.Module)
            and getattr(v, "__module__", None) == "__main__"
        ]
        found = [c for c in classes if name is None or c.__name__ == name]
        if not found:
            raise CheckFailed("no_module_class", params={"name": name or "Model"})
        return found[-1]

    def model(self, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        """A fresh instance of the learner's class ``name``, built with ``args`` (cached per name).

        Raises:
            CheckFailed: ``no_module_class``, or ``init_raised`` when the constructor raises.
        """
        if name in self._models and not args and not kwargs:
            return self._models[name]
        cls = self.module_class(name)
        try:
            instance = cls(*args, **kwargs)
        except Exception as e:
            raise CheckFailed(
                "init_raised", params={"cls": cls.__name__, "error": describe(e)}, context={"exception": e}
            ) from e
        if not args and not kwargs:
            self._models[name] = instance
        return instance

    def new_model(self, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`model` but never cached: for checks that change the model."""
        self._models.pop(name, None)
        model = self.model(name, *args, **kwargs)
        self._models.pop(name, None)
        return model

    def instance(self, name: str = "model", cls: str | None = None) -> Any:
        """The nn.Module object the learner bound to the global ``name``.

        Raises:
            CheckFailed: ``no_module_instance`` when it is missing or not an nn.Module.
        """
        import torch

        value = self.ns.get(name)
        if not isinstance(value, torch.nn.Module):
            raise CheckFailed("no_module_instance", params={"name": name, "cls": cls or "Model"})
        return value

    def try_model(self, name: str | None = None) -> Any | None:
        """The learner's model when one can be found or built, else ``None`` (for diagnoses)."""
        import torch

        try:
            return self.model(name)
        except CheckFailed:
            pass
        for value in self.ns.values():
            if isinstance(value, torch.nn.Module):
                return value
        return None

    def output_lines(self) -> list[str]:
        """The learner's printed lines, right-stripped."""
        return [line.rstrip() for line in self.stdout.splitlines()]


def describe(exc: BaseException) -> str:
    """``"TypeError: message"`` for ``exc``, cut to 300 characters, with the learner's line when known."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = text if len(text) <= 300 else text[:297] + "..."
    line = learner_line(exc)
    return f"{text} (line {line})" if line else text


def learner_line(exc: BaseException) -> int | None:
    """The last line of the learner's file in ``exc``'s traceback, or ``None``."""
    import traceback

    if isinstance(exc, SyntaxError) and exc.filename == LEARNER_FILE:
        return exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == LEARNER_FILE]
    return frames[-1].lineno if frames else None
