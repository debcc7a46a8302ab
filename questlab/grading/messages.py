"""Every learner-facing sentence of grading, in Korean and English.

Checks (judged on the server, questlab.grading.judge) and the sandbox's probes
name a message *key* and its parameters; :func:`localize` turns them into text
in the learner's locale, so a sentence is fixed in one place.

Parameters are formatted with :meth:`str.format`, so ``{count:,}`` gives
``235,146``. A part in ``[[...]]`` is left out when every parameter it names is
empty (``-``, the judge's empty list), so "Unexpected: -." never shows.
"""

from __future__ import annotations

import re
from string import Formatter
from typing import Any

LOCALES = ("ko", "en")

MESSAGES: dict[str, dict[str, str]] = {
    # -- generic check failures -------------------------------------------------
    "no_module_class": {
        "en": "No class named {name} that subclasses nn.Module was found. Define `class {name}(nn.Module):`.",
        "ko": "nn.Module을 상속한 {name} class를 찾지 못했습니다. `class {name}(nn.Module):`로 정의하세요.",
    },
    "no_module_instance": {
        "en": "No nn.Module object named `{name}` was found. Create it at the top level, e.g. `{name} = {cls}()`.",
        "ko": "`{name}`이라는 nn.Module 객체가 없습니다. 맨 바깥에서 `{name} = {cls}()`처럼 만드세요.",
    },
    "init_raised": {
        "en": "Creating `{cls}()` raised {error}.",
        "ko": "`{cls}()`를 만드는 중에 {error} 오류가 났습니다.",
    },
    "missing_submodule": {
        "en": "The model has no submodule `{name}`. Assign it in `__init__`, e.g. `self.{name} = {expected}`.",
        "ko": "model에 `{name}` submodule이 없습니다. `__init__`에서 `self.{name} = {expected}`처럼 대입하세요.",
    },
    "wrong_submodule": {
        "en": "`{name}` should be {expected} but is {actual}.",
        "ko": "`{name}`은 {expected}이어야 하는데 {actual}입니다.",
    },
    "wrong_parameters": {
        "en": "The registered parameters differ from what was asked.[[ Missing: {missing}.]][[ Unexpected: {extra}.]]"
        "[[ Wrong shape: {wrong}.]]",
        "ko": "등록된 parameter가 요구한 것과 다릅니다.[[ 빠진 것: {missing}.]][[ 예상 밖의 것: {extra}.]]"
        "[[ shape이 틀린 것: {wrong}.]]",
    },
    "wrong_buffers": {
        "en": "The registered buffers differ from what was asked.[[ Missing: {missing}.]][[ Unexpected: {extra}.]]"
        "[[ Wrong shape: {wrong}.]]",
        "ko": "등록된 buffer가 요구한 것과 다릅니다.[[ 빠진 것: {missing}.]][[ 예상 밖의 것: {extra}.]]"
        "[[ shape이 틀린 것: {wrong}.]]",
    },
    "buffer_should_not_persist": {
        "en": "The buffer `{name}` is saved in state_dict(), but it should not be: it can be recreated at any "
        'time. Register it with `self.register_buffer("{attr}", ..., persistent=False)`.',
        "ko": "buffer `{name}`이 state_dict()에 저장되는데, 언제든 다시 만들 수 있는 값이라 저장하지 않아야 "
        '합니다. `self.register_buffer("{attr}", ..., persistent=False)`로 등록하세요.',
    },
    "buffer_should_persist": {
        "en": "The buffer `{name}` is registered with `persistent=False`, so it is left out of state_dict() and "
        'lost with the checkpoint. Drop `persistent=False`: `self.register_buffer("{attr}", ...)`.',
        "ko": "buffer `{name}`이 `persistent=False`로 등록되어 state_dict()에서 빠지고 checkpoint에 "
        '저장되지 않습니다. `persistent=False`를 빼고 `self.register_buffer("{attr}", ...)`로 '
        "등록하세요.",
    },
    "wrong_total": {
        "en": "The model has {actual:,} parameters; it should have {expected:,}.",
        "ko": "model의 parameter가 {actual:,}개입니다. {expected:,}개여야 합니다.",
    },
    "wrong_output_shape": {
        "en": "For the input `{input}` the output has shape {actual}; it should be {expected}.",
        "ko": "입력 `{input}`에 대한 출력 shape이 {actual}입니다. {expected}이어야 합니다.",
    },
    "wrong_output_values": {
        "en": "The output values differ from the expected ones (largest difference {diff:.3g}, "
        "tolerance {atol:g}).",
        "ko": "출력 값이 기대한 값과 다릅니다 (가장 큰 차이 {diff:.3g}, 허용 오차 {atol:g}).",
    },
    "hooks_not_fired": {
        "en": "Forward hooks of {modules} did not fire when the model was called.",
        "ko": "model을 호출했을 때 {modules}의 forward hook이 실행되지 않았습니다.",
    },
    "not_moved": {
        "en": "After `model.to({target})` these tensors did not move with the model: {names}.",
        "ko": "`model.to({target})` 뒤에도 이 tensor들은 model과 함께 옮겨지지 않았습니다: {names}.",
    },
    "state_dict_keys": {
        "en": "state_dict() keys differ.[[ Missing: {missing}.]][[ Unexpected: {extra}.]]",
        "ko": "state_dict()의 key가 다릅니다.[[ 빠진 것: {missing}.]][[ 예상 밖의 것: {extra}.]]",
    },
    "state_dict_roundtrip": {
        "en": "Saving the state_dict and loading it into a new model did not give the same outputs.",
        "ko": "state_dict를 저장해 새 model에 불러왔더니 같은 출력이 나오지 않았습니다.",
    },
    "output_missing_line": {
        "en": "Your program did not print the line `{line}`.",
        "ko": "프로그램이 `{line}` 줄을 출력하지 않았습니다.",
    },
    "output_missing_pattern": {
        "en": "Your program's output has no line like `{example}`.",
        "ko": "프로그램 출력에 `{example}` 같은 줄이 없습니다.",
    },
    "output_wrong_value": {
        "en": "You printed `{actual}`, but the expected line is `{expected}`.",
        "ko": "`{actual}`을 출력했지만 기대한 줄은 `{expected}`입니다.",
    },
    # -- diagnoses ------------------------------------------------------------
    # -- observations (the sandbox reports data; these say what it did not produce) ---------
    "observation_missing": {
        "en": "Your program did not produce what this check looks at (`{name}`): did it end early?",
        "ko": "이 검사가 보는 `{name}`을 프로그램이 만들지 않았습니다. 프로그램이 일찍 끝났나요?",
    },
    "observation_raised": {
        "en": "Looking at your program raised {error}.",
        "ko": "프로그램을 살펴보는 중에 {error} 오류가 났습니다.",
    },
    "observation_malformed": {
        "en": "Your program did not produce a valid {what}: what it reported cannot be checked.",
        "ko": "프로그램이 올바른 {what}을 만들지 않았습니다. 보고된 값을 검사할 수 없습니다.",
    },
    "observation_too_large": {
        "en": "What your program produced is too large to check ({error}).",
        "ko": "프로그램이 만든 값이 너무 커서 검사할 수 없습니다 ({error}).",
    },
    "observation_unencodable": {
        "en": "Your program produced a value that cannot be checked: {error}.",
        "ko": "프로그램이 검사할 수 없는 값을 만들었습니다: {error}.",
    },
    "output_too_large": {
        "en": "The output for `{input}` has shape {shape} ({numel:,} numbers), far more than expected; "
        "check what `forward` returns.",
        "ko": "`{input}`에 대한 출력 shape이 {shape}({numel:,}개)로 기대보다 훨씬 큽니다. "
        "`forward`가 무엇을 돌려주는지 확인하세요.",
    },
    "no_value": {
        "en": "Your program has no top-level variable `{name}`.",
        "ko": "프로그램 맨 바깥에 `{name}` 변수가 없습니다.",
    },
    "no_function": {
        "en": "Your program has no function `{name}`. Define it at the top level with `def {name}(...):`.",
        "ko": "프로그램에 `{name}` 함수가 없습니다. 맨 바깥에 `def {name}(...):`로 정의하세요.",
    },
    "not_a_module": {
        "en": "Expected an nn.Module here, but got a {kind}.",
        "ko": "여기에는 nn.Module이 와야 하는데 {kind}이(가) 왔습니다.",
    },
    "not_a_tensor": {
        "en": "{what} should be a tensor, but it is a {kind}.",
        "ko": "{what}은(는) tensor여야 하는데 {kind}입니다.",
    },
    "wrong_shape": {
        "en": "{what} has shape {actual}; it should be {expected}.",
        "ko": "{what}의 shape이 {actual}입니다. {expected}이어야 합니다.",
    },
    "wrong_values": {
        "en": "The values of {what} differ from the expected ones (largest difference {diff:.3g}, tolerance {atol:g}).",
        "ko": "{what}의 값이 기대한 값과 다릅니다 (가장 큰 차이 {diff:.3g}, 허용 오차 {atol:g}).",
    },
    "wrong_value": {
        "en": "{what} is `{actual}`, but it should be `{expected}`.",
        "ko": "{what}이(가) `{actual}`입니다. `{expected}`이어야 합니다.",
    },
    "forward_raised_input": {
        "en": "Calling the model on the input `{input}` raised {error}.",
        "ko": "입력 `{input}`으로 model을 호출하자 {error} 오류가 났습니다.",
    },
    "output_out_of_order": {
        "en": "The line `{line}` is printed, but not in the order asked: check the order of your prints.",
        "ko": "`{line}` 줄은 출력되었지만 요구한 순서가 아닙니다. print 순서를 확인하세요.",
    },
    "diag_parameter_to": {
        "en": "Line {line}: `{call}` turns the nn.Parameter back into a plain tensor (`.to()` returns a new "
        "tensor), so it is not registered. Move the tensor first and wrap the result: `{fixed}`.",
        "ko": "{line}번째 줄의 `{call}`은 nn.Parameter를 평범한 tensor로 되돌립니다 (`.to()`는 새 tensor를 "
        "돌려줍니다). 그래서 등록되지 않습니다. tensor를 먼저 옮긴 뒤 감싸세요: `{fixed}`.",
    },
    "diag_class_not_instance": {
        "en": "Line {line} passes the class `{name}` where a module object belongs. Create it: `{name}()`.",
        "ko": "{line}번째 줄에서 module 객체 자리에 class `{name}`을 넘겼습니다. `{name}()`처럼 객체를 만드세요.",
    },
    "diag_plain_list": {
        "en": "`self.{attr}` is a plain Python {kind}, so PyTorch does not see the layers in it: "
        "parameters() misses them and they are never trained. Use `nn.{container}` instead, "
        "e.g. `self.{attr} = nn.{container}({example})`.",
        "ko": "`self.{attr}`이 평범한 Python {kind}라서 PyTorch가 그 안의 layer를 보지 못합니다. "
        "parameters()에 빠지고 학습되지도 않습니다. `self.{attr} = nn.{container}({example})`처럼 "
        "`nn.{container}`을 쓰세요.",
    },
    "diag_super_init_missing": {
        "en": "`{cls}.__init__` never calls `super().__init__()`. nn.Module must set itself up before "
        "you assign layers: make `super().__init__()` the first line of `__init__`.",
        "ko": "`{cls}.__init__`에서 `super().__init__()`를 호출하지 않습니다. layer를 대입하기 전에 "
        "nn.Module이 준비되어야 하므로 `super().__init__()`를 `__init__`의 첫 줄에 두세요.",
    },
    "diag_plain_tensor": {
        "en": "`self.{attr}` is a plain tensor[[ (shape {shape})]], not an nn.Parameter, so parameters() does "
        "not include it and an optimizer would never update it. Wrap it: "
        "`self.{attr} = nn.Parameter(...)`, or use an nn.Linear layer.",
        "ko": "`self.{attr}`이 nn.Parameter가 아닌 평범한 tensor[[(shape {shape})]]라서 parameters()에 "
        "포함되지 않고 optimizer가 갱신하지도 않습니다. `self.{attr} = nn.Parameter(...)`로 감싸거나 "
        "nn.Linear layer를 쓰세요.",
    },
    "diag_unregistered_buffer": {
        "en": "`self.{attr}` is a tensor stored as a plain attribute, so it is not in state_dict() and "
        'does not move with `model.to(...)`. Register it: `self.register_buffer("{attr}", ...)`.',
        "ko": "`self.{attr}`이 평범한 속성으로 저장된 tensor라서 state_dict()에 없고 `model.to(...)`로 "
        '함께 옮겨지지 않습니다. `self.register_buffer("{attr}", ...)`로 등록하세요.',
    },
    "diag_buffer_not_parameter": {
        "en": "`{name}` is registered as a buffer, so it is saved but never learned: parameters() leaves "
        "it out and no optimizer updates it. Make it a parameter: `self.{attr} = nn.Parameter(...)`.",
        "ko": "`{name}`이 buffer로 등록되어 있어서 저장은 되지만 학습되지 않습니다. parameters()에 "
        "빠지므로 optimizer가 갱신하지 않습니다. `self.{attr} = nn.Parameter(...)`로 parameter로 만드세요.",
    },
    "diag_parameter_not_buffer": {
        "en": "`{name}` is an nn.Parameter, so parameters() hands it to the optimizer and it gets "
        "gradients and updates like a weight. State that is not learned belongs in a buffer: "
        '`self.register_buffer("{attr}", ...)`.',
        "ko": "`{name}`이 nn.Parameter라서 parameters()를 통해 optimizer에 넘어가고, weight처럼 gradient를 "
        "받아 갱신됩니다. 학습하지 않는 상태값은 buffer에 두세요: "
        '`self.register_buffer("{attr}", ...)`.',
    },
    "diag_forward_call": {
        "en": "Line {line} calls `{call}` directly. Calling `.forward()` skips PyTorch's hooks; call the "
        "module itself instead: `{fixed}`.",
        "ko": "{line}번째 줄에서 `{call}`을 직접 호출합니다. `.forward()`를 직접 부르면 PyTorch의 hook이 "
        "실행되지 않으니 module 자체를 호출하세요: `{fixed}`.",
    },
    # -- run-level errors --------------------------------------------------------
    "syntax_error": {
        "en": "Python could not read your code: {error} on line {line}.\n{detail}",
        "ko": "Python이 코드를 읽지 못했습니다: {line}번째 줄에서 {error}.\n{detail}",
    },
    "learner_raised": {
        "en": "Your code stopped with {error} on line {line}.\n{detail}",
        "ko": "코드가 {line}번째 줄에서 {error} 오류로 멈췄습니다.\n{detail}",
    },
    "learner_raised_noline": {
        "en": "Your code stopped with {error}.\n{detail}",
        "ko": "코드가 {error} 오류로 멈췄습니다.\n{detail}",
    },
    "run_timeout": {
        "en": "Your code took too long and was stopped ({reason}). Look for a loop that never ends.",
        "ko": "코드 실행이 너무 오래 걸려 멈췄습니다 ({reason}). 끝나지 않는 반복문이 있는지 확인하세요.",
    },
    "run_memory": {
        "en": "Your code used too much memory and was stopped ({reason}).",
        "ko": "코드가 메모리를 너무 많이 써서 멈췄습니다 ({reason}).",
    },
    "run_output_limit": {
        "en": "Your code printed too much and was stopped ({reason}). Print less, e.g. not inside a long loop.",
        "ko": "코드가 너무 많이 출력해서 멈췄습니다 ({reason}). 긴 반복문 안에서 출력하지 않도록 줄이세요.",
    },
    "run_killed": {
        "en": "Your code was stopped ({reason}).",
        "ko": "코드 실행이 중단되었습니다 ({reason}).",
    },
    "rate_limited": {
        "en": "You are running and submitting very fast; wait {seconds} s, then submit again.",
        "ko": "실행과 제출이 너무 잦습니다. {seconds}초 기다린 뒤 다시 제출하세요.",
    },
    "run_busy": {
        "en": "The grader is busy right now; please submit again in a moment.",
        "ko": "채점기가 지금 바쁩니다. 잠시 후 다시 제출하세요.",
    },
    "no_report": {
        "en": "Your program ended before the checks could run (did it call os._exit?).",
        "ko": "검사가 실행되기 전에 프로그램이 끝났습니다 (os._exit를 호출했나요?).",
    },
    "grader_broken": {
        "en": "The checks for this exercise failed to run. This is a problem with the exercise, not your "
        "code; please report it.",
        "ko": "이 연습 문제의 검사가 실행되지 못했습니다. "
        "코드 문제가 아니라 연습 문제의 문제이니 신고해 주세요.",
    },
    "output_truncated": {
        "en": "[output truncated: showing the first {shown:,} of {total:,} characters]",
        "ko": "[출력이 잘렸습니다: 전체 {total:,}자 중 처음 {shown:,}자만 보입니다]",
    },
    "same_cause": {
        "en": "Same cause as in `{name}` above.",
        "ko": "위의 `{name}` 검사와 같은 원인입니다.",
    },
    # -- the runner starting (added as its own block; the entries above are kept as they are) --
    "run_warming_up": {
        "en": "The grader is warming up after the server started; submit again in {seconds} s.",
        "ko": "서버가 막 시작해서 채점기를 준비하는 중입니다. {seconds}초 뒤에 다시 제출하세요.",
    },
    # -- runner workers (QUESTLAB_RUNNER=celery) --
    "runner_no_worker": {
        "en": "No code runner is online right now, so nothing can run; try again in a few seconds. "
        "If this lasts, tell the site's operator that no questlab worker is running.",
        "ko": "지금 온라인인 코드 실행기가 없어서 실행할 수 없습니다. 몇 초 뒤에 다시 시도하세요. "
        "계속되면 사이트 운영자에게 questlab worker가 실행되고 있지 않다고 알려 주세요.",
    },
    "runner_no_capability": {
        "en": "No code runner that offers {capability} is online right now; try again later.",
        "ko": "{capability}을(를) 제공하는 코드 실행기가 지금 온라인에 없습니다. 나중에 다시 시도하세요.",
    },
    "runner_unreachable": {
        "en": "The run queue cannot be reached right now, so nothing can run; try again in a few seconds.",
        "ko": "지금은 실행 대기열에 연결할 수 없어서 실행할 수 없습니다. 몇 초 뒤에 다시 시도하세요.",
    },
    "learner_no_network": {
        "en": "Code here has no network, so downloads (torch.hub, datasets, web pages) cannot work.",
        "ko": "여기서 실행되는 코드에는 네트워크가 없어서 다운로드(torch.hub, 데이터셋, 웹 페이지)를 할 수 없습니다.",
    },
    "learner_no_input": {
        "en": "Code here gets no keyboard input: input() finds nothing. Put the value in the code instead.",
        "ko": "여기서 실행되는 코드는 키보드 입력을 받지 못합니다: input()은 아무것도 받지 못하니 값을 코드에 직접 넣으세요.",
    },
}


#: ``[[ Missing: {missing}.]]``: a part of a sentence left out when every parameter it names is empty.
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.S)
#: What the probes pass for an empty list of names.
_EMPTY = (None, "", "-")


def _optional(part: str, params: dict[str, Any]) -> str:
    names = [field.split(".")[0].split("[")[0] for _, field, _, _ in Formatter().parse(part) if field]
    return part if any(params.get(name) not in _EMPTY for name in names) else ""


def localize(
    key: str, params: dict[str, Any] | None = None, locale: str = "en", text: dict[str, str] | None = None
) -> str:
    """Return the sentence for ``key`` in ``locale``, formatted with ``params``.

    Args:
        key: a key of :data:`MESSAGES`; ignored when ``text`` is given.
        params: values for the sentence's ``{placeholders}``.
        locale: ``"ko"`` or ``"en"``; other locales fall back to Korean, then English.
        text: an author's own sentence per locale (a check's ``ko=``/``en=``), used instead of ``key``.

    Returns:
        The sentence. An unknown key or a missing parameter never raises: the key
        and parameters are shown as they are, so a broken catalog stays visible.
    """
    table = text or MESSAGES.get(key)
    if not table:
        return f"{key} {params or ''}".strip()
    template = table.get(locale) or table.get("ko") or table.get("en") or ""
    template = _OPTIONAL.sub(lambda m: _optional(m.group(1), params or {}), template)
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError, ValueError):
        return template
