"""Forgery attempts against a real ``questlab serve``: none of them passes an exercise it does not solve.

Each attempt is a program a learner could submit. The learner's code owns its
process, so the attempts rewrite whatever runs there: the grading modules in
``sys.modules``, the result pipe, torch and ``nn.Module`` methods, equality.
The verdict is made on the server from observations compared with the
reference solution's on a seed the program does not choose, so every attempt
must come back ``fail`` or ``error`` with no XP.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.grading.conftest import EXERCISE, REPO

URL = "/api/quests/pytorch/networks/nn-module/submit"
SOLUTION = (EXERCISE / "solution.py").read_text()


def _honest_report(seed: int) -> dict:
    """The report an honest run of the solution sends for ``seed`` (made here, in the test process)."""
    from questlab.grading.sandbox import driver

    namespace: dict = {"__name__": "__main__"}
    exec(compile(SOLUTION, "main.py", "exec"), namespace)
    sent: list = []
    driver.run_probe((EXERCISE / "probe.py").read_text(), seed, namespace, None, sent.append)
    return json.loads(json.dumps(sent[0]))


#: A fake module reporting every check as passed, in both the old and the new report formats.
_FAKE_DRIVER = """
import json, os, sys, types
fake = types.ModuleType("questlab.grading.sandbox.driver")
def run_probe(*args, **kwargs):
    report = args[-1]
    report({"probe": 2, "learner_error": None, "probe_error": None, "observations": {}})
fake.run_probe = run_probe
for name in ("questlab.grading.sandbox.driver", "questlab.grading.driver", "questlab.grading.judge"):
    sys.modules[name] = fake
import marshal
FAKE = "run_probe = lambda *a: a[-1]({'probe': 2, 'learner_error': None, 'observations': {}})"
marshal.loads = lambda data: [("driver", compile(FAKE, "x", "exec"))]
"""

ATTEMPTS = {
    # Puts its own modules in sys.modules under the grading packages' names and hijacks the loader.
    "replace_grading_modules_in_sys_modules": _FAKE_DRIVER,
    # Writes a "pass" report in the old format on the result pipe and ends before the probe runs.
    "fake_report_on_the_result_pipe": """
import json, os
fake = {"harness": 1, "learner_error": None, "checks_error": None, "tests": [
    {"name": n, "status": "pass", "failure": None, "diagnosis": None} for n in ("layers", "forward")]}
os.write(3, json.dumps({"report": fake, "traceback": None}).encode())
os._exit(0)
""",
    # Prints text that imitates the results JSON.
    "printed_text_imitating_the_results": """
print('{"version": 1, "status": "pass", "message": null, "tests": [{"name": "forward", "status": "pass"}]}')
print("All checks passed! total: 235146")
""",
    # Fakes the structure by patching nn.Module methods, and a forward that returns zeros.
    "patched_nn_module_methods": """
import torch
from torch import nn
SHAPES = {"fc1.weight": (256, 784), "fc1.bias": (256,), "fc2.weight": (128, 256), "fc2.bias": (128,),
          "fc3.weight": (10, 128), "fc3.bias": (10,)}
class MLP(nn.Module):
    def forward(self, x):
        return torch.zeros(x.shape[0], 10)
fakes = {n: nn.Parameter(torch.zeros(s)) for n, s in SHAPES.items()}
nn.Module.named_parameters = lambda self, *a, **k: iter(fakes.items())
nn.Module.parameters = lambda self, *a, **k: iter(fakes.values())
nn.Module.extra_repr = lambda self: "in_features=784, out_features=256, bias=True"
model = MLP()
for name, p in model.named_parameters():
    print(name, tuple(p.shape))
print("total:", 235146)
""",
    # Patches torch functions a judge in this process would compare with.
    "patched_torch_functions": """
import torch
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
torch.testing.assert_close = lambda *a, **k: None
from torch import nn
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)
    def forward(self, x):
        return torch.zeros(x.shape[0], 10)
model = MLP()
for name, p in model.named_parameters():
    print(name, tuple(p.shape))
print("total:", 235146)
""",
    # Returns an object whose == always says yes, where a tensor is expected.
    "always_true_eq": """
import torch
from torch import nn
class Yes(torch.Tensor):
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
class Anything:
    shape = (32, 10)
    def __eq__(self, other):
        return True
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)
    def forward(self, x):
        return Anything()
model = MLP()
for name, p in model.named_parameters():
    print(name, tuple(p.shape))
print("total:", 235146)
""",
    # A module whose __class__ claims to be nn.Linear, registered under the right names.
    "class_trick_fake_linear": """
import torch
from torch import nn
class Fake(nn.Module):
    __class__ = nn.Linear
    def __init__(self, i, o):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(o, i))
        self.bias = nn.Parameter(torch.zeros(o))
    def extra_repr(self):
        return f"in_features={self.weight.shape[1]}, out_features={self.weight.shape[0]}, bias=True"
    def forward(self, x):
        return x[..., : self.weight.shape[0]] * 0
Fake.__name__ = "Linear"
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = Fake(784, 256), Fake(256, 128), Fake(128, 10)
    def forward(self, x):
        return self.fc3(self.fc2(self.fc1(x)))
model = MLP()
for name, p in model.named_parameters():
    print(name, tuple(p.shape))
print("total:", 235146)
""",
    # Reads the reference solution and the checks from the files the server has.
    "reading_the_reference_solution": f"""
import os
found = []
wanted = {{"solution.py", "checks.py", "mistakes.toml", "quest.toml"}}
seen = 0
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev")]
    seen += 1
    found += [os.path.join(root, f) for f in files if f in wanted or root.endswith("/mistakes")]
    if seen > 20000:
        break
for path in ({str(EXERCISE / "solution.py")!r}, {str(EXERCISE / "checks.py")!r}):
    if os.path.exists(path):
        found.append(path)
print("found", found[:10])
if found:
    exec(open(found[0]).read())
""",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``questlab serve`` on loopback with the bundled quests and the sandbox."""
    data = tmp_path_factory.mktemp("forgery")
    port = _free_port()
    env = {
        **os.environ,
        "QUESTLAB_DATA_DIR": str(data),
        "QUESTLAB_QUESTS_DIR": str(REPO / "quests"),
        "QUESTLAB_SANDBOX": "bwrap",
        "QUESTLAB_RUN_RATE_PER_MINUTE": "1000",
        "QUESTLAB_RUN_RATE_PER_ADDRESS_PER_MINUTE": "1000",
        "PYTHONPATH": str(REPO),
    }
    log = (data / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "questlab.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=data,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/-/health", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("questlab serve did not start:\n" + (data / "server.log").read_text())
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def _submit(base: str, code: str) -> dict:
    with httpx.Client(base_url=base, timeout=60) as http:
        http.get("/")
        headers = {"X-CSRF-Token": http.cookies["questlab_csrf"]}
        r = http.post(URL, json={"code": code, "locale": "en"}, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()


def test_the_server_grades_honestly(server: str) -> None:
    """The control: the real solution passes, so a failed forgery is not a broken server."""
    body = _submit(server, SOLUTION)
    assert body["status"] == "pass" and body["xp_awarded"] > 0


@pytest.mark.parametrize("attempt", sorted(ATTEMPTS))
def test_forgery_does_not_pass(server: str, attempt: str) -> None:
    body = _submit(server, ATTEMPTS[attempt])
    assert body["status"] in ("fail", "error"), (attempt, body)
    assert body["xp_awarded"] == 0 and body["completion_token"] is None


def test_replaying_another_learners_observations_does_not_pass(server: str) -> None:
    """A real, honest report (another seed) written on the result pipe: the seed differs, so it fails."""
    document = json.dumps({"report": _honest_report(12345), "traceback": None})
    replay = f"import os\nos.write(3, {document!r}.encode())\nos._exit(0)\n"
    body = _submit(server, replay)
    assert body["status"] in ("fail", "error"), body
    failed = {t["name"] for t in body["tests"] if t["status"] != "pass"}
    assert "forward" in failed, body


def test_the_sandbox_holds_no_reference_material(server: str) -> None:
    """Inside a run, no solution, checks or mistake variant can be found; the probe may be."""
    with httpx.Client(base_url=server, timeout=60) as http:
        http.get("/")
        headers = {"X-CSRF-Token": http.cookies["questlab_csrf"]}
        code = ATTEMPTS["reading_the_reference_solution"]
        r = http.post("/api/run", json={"code": code}, headers=headers)
        assert r.status_code == 200, r.text
        assert "found []" in r.json()["stdout"], r.json()
