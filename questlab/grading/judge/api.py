"""The check API authors write ``checks.py`` with (server side).

A check is ``f(obs)`` decorated with :func:`check`; it reads observations
(plain data decoded by :mod:`questlab.grading.judge.wire`) and raises
:class:`CheckFailed` (through :func:`fail` or an ``expect_*`` helper) when the
program does not do what was asked. It runs on the server, never in the
learner's process, so expected values may live here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from questlab.grading.judge.wire import ObservedError, Tensor, same

ASPECTS = ("any", "structure", "parameters", "forward", "hooks", "state", "output")


class CheckFailed(Exception):
    """A check's verdict: the program does not do what was asked.

    Args:
        key: a message key of :data:`questlab.grading.messages.MESSAGES`, or ``None`` to use
            ``text`` (or the check's own ``ko``/``en`` sentence).
        params: values for the message's placeholders (plain data).
        text: an author's sentence per locale, ``{"ko": ..., "en": ...}``.
    """

    def __init__(
        self,
        key: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        text: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(key or (text or {}).get("en", "check failed"))
        self.key = key
        self.params = dict(params or {})
        self.text = dict(text) if text else None


class ReferenceBroken(Exception):
    """The reference solution's observation is missing or an error: the exercise is broken."""


@dataclass
class Check:
    """A registered check: ``name``, ``aspect`` (one of :data:`ASPECTS`), whether it reads the
    printed output, and the author's own failure sentence per locale (optional)."""

    name: str
    func: Callable[[Observations], None]
    aspect: str = "any"
    uses_output: bool = False
    text: dict[str, str] | None = None


def check(
    name: str, *, aspect: str = "any", uses_output: bool = False, ko: str | None = None, en: str | None = None
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Declare the decorated ``f(obs)`` as the check ``name`` (checks run in file order).

    Args:
        name: the check's id, shown to the learner (a string literal).
        aspect: what the check is about, one of :data:`ASPECTS` (used by diagnoses).
        uses_output: the learner's printed output is shown beside this check's result.
        ko, en: the sentence shown when the check fails with a bare :class:`CheckFailed`.

    Raises:
        ValueError: for an unknown ``aspect``.
    """
    if aspect not in ASPECTS:
        raise ValueError(f"unknown aspect {aspect!r}; use one of {ASPECTS}")

    def register(func: Callable[..., None]) -> Callable[..., None]:
        text = {"ko": ko or en or "", "en": en or ko or ""} if (ko or en) else None
        func.__questlab_check__ = Check(name, func, aspect, uses_output, text)  # type: ignore[attr-defined]
        return func

    return register


def fail(key: str | None = None, *, en: str | None = None, ko: str | None = None, **params: Any) -> None:
    """Fail the current check with message ``key`` (and ``params``) or the sentence ``en``/``ko``.

    Raises:
        CheckFailed: always.
    """
    text = {"ko": ko or en or "", "en": en or ko or ""} if (ko or en) else None
    raise CheckFailed(key, params=params, text=text)


class Observations:
    """One run's observations as a check sees them.

    Args:
        learner: decoded observations of the program being judged, by name.
        reference: decoded observations of the reference solution on the same seed.
        stdout: what the program printed.
        source: the program's source code (for AST rules).

    ``obs[name]`` is the program's observation; a missing or failed one raises
    :class:`CheckFailed` with a sentence saying what the program did not produce.
    Every name read is recorded in :attr:`read` (for matching mistake variants).
    """

    def __init__(
        self, learner: Mapping[str, Any], reference: Mapping[str, Any], stdout: str = "", source: str = ""
    ) -> None:
        self._learner = learner
        self._reference = reference
        self._stdout = stdout
        self.source = source
        self.read: list[str] = []

    def __getitem__(self, name: str) -> Any:
        self.read.append(name)
        if name not in self._learner:
            raise CheckFailed("observation_missing", params={"name": name})
        value = self._learner[name]
        if isinstance(value, ObservedError):
            raise failure_of(value)
        return value

    def get(self, name: str) -> Any:
        """The program's observation ``name``, or ``None`` when it is missing or an error."""
        try:
            return self[name]
        except CheckFailed:
            return None

    def reference(self, name: str) -> Any:
        """The reference solution's observation ``name`` on this submission's seed.

        Raises:
            ReferenceBroken: when the reference did not produce it (an author bug).
        """
        value = self._reference.get(name)
        if name not in self._reference or isinstance(value, ObservedError):
            raise ReferenceBroken(f"the reference solution did not produce observation {name!r}: {value}")
        return value

    @property
    def stdout(self) -> str:
        """What the program printed."""
        self.read.append("$stdout")
        return self._stdout

    def lines(self) -> list[str]:
        """The printed lines, right-stripped."""
        return [line.rstrip() for line in self.stdout.splitlines()]


def failure_of(error: ObservedError) -> CheckFailed:
    """The :class:`CheckFailed` for an observation that raised in the sandbox."""
    if error.key:
        return CheckFailed(error.key, params=error.params)
    where = f" (line {error.line})" if error.line else ""
    detail = f"{error.type}: {error.message}" if error.message else error.type
    return CheckFailed("observation_raised", params={"error": detail[:300] + where})


# -- helpers over describe_module() observations --------------------------------------------

_MODULE_KEYS = {"class", "training", "tree", "parameters", "buffers", "plain", "calls", "hooks", "outputs"}


def module(desc: Any) -> dict[str, Any]:
    """``desc`` checked to be a :func:`~questlab.grading.sandbox.describe_module` observation.

    Raises:
        CheckFailed: ``observation_malformed`` otherwise.
    """
    if not isinstance(desc, dict) or not _MODULE_KEYS <= desc.keys():
        raise CheckFailed("observation_malformed", params={"what": "module description"})
    for key in ("tree", "parameters", "buffers", "plain", "calls", "hooks"):
        if not isinstance(desc[key], list):
            raise CheckFailed("observation_malformed", params={"what": key})
    return desc


def _rows(desc: Any, key: str, width: int) -> list[list[Any]]:
    rows = module(desc)[key]
    if not all(isinstance(r, list) and len(r) == width and isinstance(r[0], str) for r in rows):
        raise CheckFailed("observation_malformed", params={"what": key})
    return rows


def _shape(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in value):
        raise CheckFailed("observation_malformed", params={"what": "shape"})
    return tuple(value)


def _names(items: Iterable[str]) -> str:
    items = list(items)
    return ", ".join(f"`{i}`" for i in items) if items else "-"


def layers_of(desc: Any) -> dict[str, tuple[str, str]]:
    """``{qualified name: (class name, extra_repr)}`` of a module description."""
    return {row[0]: (str(row[1]), str(row[2])) for row in _rows(desc, "tree", 3)}


_TEMPLATE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(?:\((.*)\))?\s*$", re.S)


def expect_layers(desc: Any, expected: Mapping[str, str]) -> None:
    """Fail unless each ``name`` holds a module matching ``expected[name]``.

    Args:
        desc: a module description.
        expected: ``{"fc1": "Linear(in_features=784, out_features=256, bias=True)", "act": "ReLU"}``:
            the class name, and the module's ``extra_repr()`` in parentheses when it matters.

    Raises:
        CheckFailed: ``missing_submodule`` or ``wrong_submodule``.
    """
    found = layers_of(desc)
    for name, template in expected.items():
        match = _TEMPLATE.match(template)
        if match is None:
            raise ValueError(f"layer template {template!r} is not 'Class(extra_repr)'")
        cls, extra = match.group(1), match.group(2)
        if name not in found:
            raise CheckFailed("missing_submodule", params={"name": name, "expected": f"nn.{template}"})
        actual_cls, actual_extra = found[name]
        if actual_cls != cls or (
            extra is not None and actual_extra.replace(" ", "") != extra.replace(" ", "")
        ):
            actual = f"{actual_cls}({actual_extra})" if actual_extra else actual_cls
            raise CheckFailed(
                "wrong_submodule", params={"name": name, "expected": template, "actual": actual}
            )


def parameters_of(desc: Any) -> dict[str, tuple[int, ...]]:
    """``{name: shape}`` of a module description's parameters."""
    return {row[0]: _shape(row[1]) for row in _rows(desc, "parameters", 3)}


def _compare_shapes(
    key: str, found: Mapping[str, tuple[int, ...]], expected: Mapping[str, Iterable[int]]
) -> None:
    want = {n: tuple(s) for n, s in expected.items()}
    missing = [n for n in want if n not in found]
    extra = [n for n in found if n not in want]
    wrong = [f"`{n}` {found[n]} ≠ {want[n]}" for n in want if n in found and found[n] != want[n]]
    if missing or extra or wrong:
        raise CheckFailed(
            key, params={"missing": _names(missing), "extra": _names(extra), "wrong": ", ".join(wrong) or "-"}
        )


def expect_parameters(desc: Any, expected: Mapping[str, Iterable[int]]) -> None:
    """Fail unless the registered parameters are exactly ``{name: shape}``.

    Raises:
        CheckFailed: ``wrong_parameters`` naming what is missing, unexpected or of the wrong shape.
    """
    _compare_shapes("wrong_parameters", parameters_of(desc), expected)


def expect_buffers(
    desc: Any, expected: Mapping[str, Iterable[int]], non_persistent: Iterable[str] = ()
) -> None:
    """Fail unless the registered buffers are exactly ``{name: shape}``, persistent except those named.

    Raises:
        CheckFailed: ``wrong_buffers``, ``buffer_should_not_persist`` or ``buffer_should_persist``.
    """
    rows = _rows(desc, "buffers", 3)
    _compare_shapes("wrong_buffers", {r[0]: _shape(r[1]) for r in rows}, expected)
    transient = set(non_persistent)
    for name, _, persistent in rows:
        params = {"name": name, "attr": name.rpartition(".")[2]}  # the sentences show register_buffer(attr)
        if persistent and name in transient:
            raise CheckFailed("buffer_should_not_persist", params=params)
        if not persistent and name not in transient:
            raise CheckFailed("buffer_should_persist", params=params)


def expect_total(desc: Any, total: int) -> None:
    """Fail unless the parameters hold ``total`` numbers in all.

    Raises:
        CheckFailed: ``wrong_total``.
    """
    actual = 0
    for shape in parameters_of(desc).values():
        n = 1
        for d in shape:
            n *= d
        actual += n
    if actual != total:
        raise CheckFailed("wrong_total", params={"actual": actual, "expected": total})


def expect_hooks_fire(desc: Any, names: Iterable[str]) -> None:
    """Fail unless calling the module fired the forward hooks of every module in ``names``.

    Raises:
        CheckFailed: ``hooks_not_fired`` naming the silent ones.
    """
    fired = set(module(desc)["hooks"])
    silent = [n for n in names if n not in fired]
    if silent:
        raise CheckFailed("hooks_not_fired", params={"modules": _names(silent)})


def expect_tensor(value: Any, what: str) -> Tensor:
    """``value`` checked to be an observed tensor; ``what`` names it in the failure.

    Raises:
        CheckFailed: ``observation_raised`` (it raised) or ``not_a_tensor``.
    """
    if isinstance(value, ObservedError):
        raise failure_of(value)
    if not isinstance(value, Tensor):
        raise CheckFailed("not_a_tensor", params={"what": what, "kind": type(value).__name__})
    return value


def expect_close(
    actual: Any, expected: Any, *, what: str = "output", atol: float = 1e-5, rtol: float = 1e-4
) -> None:
    """Fail unless tensor ``actual`` has ``expected``'s shape and values within tolerance.

    Args:
        actual: the program's observed tensor.
        expected: the reference's observed tensor.
        what: the tensor's name in the failure (e.g. ``"the output for x"``).

    Raises:
        CheckFailed: ``not_a_tensor``, ``wrong_shape`` or ``wrong_values``.
    """
    got = expect_tensor(actual, what)
    want = expect_tensor(expected, what)
    if got.shape != want.shape:
        raise CheckFailed(
            "wrong_shape", params={"what": what, "actual": _tuple(got.shape), "expected": _tuple(want.shape)}
        )
    if not got.close(want, atol, rtol):
        raise CheckFailed("wrong_values", params={"what": what, "diff": got.max_diff(want), "atol": atol})


def _tuple(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def expect_same_outputs(desc: Any, reference: Any, *, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Fail unless the module's outputs equal the reference's on every seeded input.

    Both descriptions were taken with the same seed and seeded parameters, so equal
    outputs mean the same function.

    Raises:
        CheckFailed: ``forward_raised``, ``wrong_output_shape`` or ``wrong_output_values``.
    """
    got = module(desc)["outputs"]
    want = module(reference)["outputs"]
    if not isinstance(got, dict):
        raise CheckFailed("observation_malformed", params={"what": "outputs"})
    for name, expected in want.items():
        actual = got.get(name)
        if isinstance(actual, ObservedError):
            detail = f"{actual.type}: {actual.message}"[:300] + (
                f" (line {actual.line})" if actual.line else ""
            )
            if actual.key:
                raise failure_of(actual)
            raise CheckFailed("forward_raised_input", params={"input": name, "error": detail})
        if isinstance(expected, Tensor):
            actual = expect_tensor(actual, f"the output for `{name}`")
            if actual.shape != expected.shape:
                raise CheckFailed(
                    "wrong_output_shape",
                    params={
                        "input": name,
                        "actual": _tuple(actual.shape),
                        "expected": _tuple(expected.shape),
                    },
                )
            if not actual.close(expected, atol, rtol):
                raise CheckFailed(
                    "wrong_output_values", params={"diff": actual.max_diff(expected), "atol": atol}
                )
        elif not same(actual, expected, atol, rtol):
            raise CheckFailed("wrong_output_values", params={"diff": float("inf"), "atol": atol})


def expect_equal(actual: Any, expected: Any, *, what: str, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Fail unless ``actual`` equals ``expected`` (tensors and floats within tolerance).

    Raises:
        CheckFailed: ``observation_raised`` when ``actual`` is an error, else ``wrong_value``
            showing both (cut to 200 characters).
    """
    if isinstance(actual, ObservedError):
        raise failure_of(actual)
    if not same(actual, expected, atol, rtol):
        raise CheckFailed(
            "wrong_value", params={"what": what, "actual": _show(actual), "expected": _show(expected)}
        )


def _show(value: Any) -> str:
    if isinstance(value, Tensor):
        text = f"tensor{_tuple(value.shape)} {value.tolist()}"
    else:
        text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


# -- printed output ------------------------------------------------------------------------------


def expect_printed(obs: Observations, line: str) -> None:
    """Fail unless the program printed ``line`` (trailing spaces ignored).

    Raises:
        CheckFailed: ``output_missing_line``.
    """
    if line.rstrip() not in obs.lines():
        raise CheckFailed("output_missing_line", params={"line": line})


def expect_printed_in_order(obs: Observations, lines: Iterable[str]) -> None:
    """Fail unless the program printed every one of ``lines``, in this order (others may come between).

    Raises:
        CheckFailed: ``output_missing_line`` or ``output_out_of_order``.
    """
    printed = obs.lines()
    position = -1
    for line in lines:
        want = line.rstrip()
        if want not in printed:
            raise CheckFailed("output_missing_line", params={"line": line})
        later = [i for i, p in enumerate(printed) if p == want and i > position]
        if not later:
            raise CheckFailed("output_out_of_order", params={"line": line})
        position = later[0]


def expect_printed_pattern(
    obs: Observations, pattern: str, *, expected: str | None = None, example: str
) -> str:
    """Find the first printed line matching ``pattern``; fail when there is none or its value is wrong.

    Args:
        pattern: a regular expression with one group for the value (searched in each line).
        expected: the group's expected text (``_`` and ``,`` in numbers ignored), or ``None``.
        example: a line as it should look, shown when none matches.

    Returns:
        The matching line's group.

    Raises:
        CheckFailed: ``output_missing_pattern`` or ``output_wrong_value``.
    """
    for line in obs.lines():
        match = re.search(pattern, line)
        if match:
            value = match.group(1)
            if expected is not None and value.replace("_", "").replace(",", "") != expected:
                raise CheckFailed("output_wrong_value", params={"actual": line.strip(), "expected": example})
            return value
    raise CheckFailed("output_missing_pattern", params={"example": example})
