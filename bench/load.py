"""Load test: simulated learners against a private questlab server, with locust (headless, loopback only).

Run: .venv/bin/python bench/load.py [--users 10,50,100] [--seconds 20] [--celery] [--scenario all]

Needs the ``bench`` extra (``pip install -e '.[bench]'``: locust). Starts its own ``questlab serve``
on a free loopback port, in a fresh data folder: SQLite, the in-process runner, run and comment
limits raised so that the test measures the server and not the rate limits. With ``--celery`` it
starts a private redis-server (nothing on disk), two ``questlab worker`` processes and a server
with ``QUESTLAB_RUNNER=celery`` instead. Nothing else is reached: every request goes to
127.0.0.0/8, each simulated client from its own loopback address (127.1.x.y), so the runner's
fair queue sees one client per address as it would in a classroom.

Scenarios:

- ``learners``: for each user count, that many signed-up learners (``POST /api/auth/signup`` at
  the start, not measured) read lessons, run code, submit the nn-module exercise's solution, sync
  their progress and post comments, with a think time between actions. After every learner has
  started, the test measures for ``--seconds`` and prints throughput, p50/p95/p99 per action, the
  number of errors (answers other than 2xx, and failed connections) and the number of 500 answers.
- ``greedy``: calm visitors press Run now and then; first alone, then beside one greedy client
  (one address, ``--greedy-concurrency`` connections, a fresh cookie for every request, no pause)
  hammering Run. Prints the calm visitors' p95 without and with the greedy client and their ratio
  (the goal: at most 2×), and the calm runs' own time inside the runner (``duration_ms``), which
  tells waiting apart from slower runs. The greedy client's address is held to no run limit unless
  ``--address-limit`` keeps the default one (``QUESTLAB_RUN_RATE_PER_ADDRESS_PER_MINUTE``): without
  it, only the runner's fair queue stands between it and the others.

Bounded: at most :data:`MAX_USERS` users and :data:`MAX_SECONDS` seconds per measurement. The
results are also written as JSON with ``--json PATH``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# locust patches the standard library for gevent when imported: it comes before requests (and so
# before ssl), which the `from` forms below keep in that order once sorted.
from gevent import sleep as gevent_sleep
from locust import HttpUser, between, constant, task
from locust.env import Environment
from requests import RequestException, Session
from requests import get as http_get
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parents[1]
QUEST = "pytorch"
SOLUTION = (ROOT / "quests/pytorch/02-networks/01-nn-module/exercise/solution.py").read_text()
SUBMIT = f"/api/quests/{QUEST}/networks/nn-module/submit"
COMMENTS = f"/api/quests/{QUEST}/networks/nn-module/comments"
RUN_CODE = "import torch\nx = torch.randn(8, 16)\nprint(x.shape, (x @ x.T).shape)"
MAX_USERS = 500
MAX_SECONDS = 600
GREEDY_ADDRESS = "127.2.0.1"
SERVER_START_S = 180


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_address(index: int) -> str:
    """The loopback address of simulated client ``index`` (0, 1, ...): 127.1.0.1, 127.1.0.2, ..."""
    return f"127.1.{index // 250}.{index % 250 + 1}"


def lesson_paths() -> list[tuple[str, str]]:
    """``(url, key)`` of every lesson of the PyTorch quest, in quest order."""
    from questlab.content.loader import load_catalog

    quest = load_catalog(ROOT / "quests").quests[QUEST]
    return [(lesson.url(), lesson.key) for lesson in quest.lessons()]


class SourceAddressAdapter(HTTPAdapter):
    """A requests adapter whose connections leave from one local address.

    Args:
        address: the local IP address to bind (a loopback address here).
    """

    def __init__(self, address: str) -> None:
        self.source_address = (address, 0)
        super().__init__(pool_connections=1, pool_maxsize=1)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        """Make the pool manager with ``source_address`` for every connection."""
        pool_kwargs["source_address"] = self.source_address
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


# -- the server and its services --------------------------------------------------------------------


ADDRESS_LIMIT: list[str] = [
    "1000000"
]  # runs per address per minute; the setting's default with --address-limit


def server_env(data: Path, **extra: str) -> dict[str, str]:
    """The environment of a bench server or worker: a private data folder, limits raised."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QUESTLAB_DATA_DIR": str(data),
        "QUESTLAB_SECRET_KEY": "questlab-load-test",
        "QUESTLAB_RUN_RATE_PER_MINUTE": "1000000",
        "QUESTLAB_RUN_RATE_PER_ADDRESS_PER_MINUTE": ADDRESS_LIMIT[0],
        "QUESTLAB_COMMENTS_PER_MINUTE": "1000000",
        "QUESTLAB_DEFAULT_LOCALE": "en",
        **extra,
    }


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while True:
        try:
            if http_get(base + "/-/health/ready", timeout=2).status_code == 200:
                return
        except RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not get ready:\n{log.read_text()[-4000:]}")
        time.sleep(0.3)


@dataclass
class Services:
    """The processes a bench run started (stopped together by :meth:`stop`)."""

    base: str = ""
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        """Stop the processes one by one, the last started first (the server before its workers and
        Redis): SIGTERM (servers and workers stop their sandboxes), then SIGKILL after 20 s."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def start_services(tmp: Path, celery: bool, slots: int) -> Services:
    """Start the server (and, with ``celery``, redis-server and two workers) in ``tmp``.

    Args:
        tmp: a fresh folder for data and logs.
        celery: run code on two ``questlab worker`` processes through a private Redis.
        slots: runner slots (of the server, or of each worker).

    Returns:
        The started services; ``base`` is the server's URL once ``/-/health/ready`` answers 200.

    Raises:
        SystemExit: a process did not start (its log is printed).
    """
    services = Services()
    extra = {"QUESTLAB_RUNNER_SLOTS": str(slots)}
    try:
        if celery:
            redis_server = shutil.which("redis-server")
            if not redis_server:
                raise SystemExit("--celery needs redis-server (scripts/system-packages installs it)")
            redis_port = free_port()
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
            services.procs.append(
                subprocess.Popen(
                    [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
                    stdout=subprocess.DEVNULL,
                )
            )
            extra |= {
                "QUESTLAB_RUNNER": "celery",
                "QUESTLAB_REDIS_URL": redis_url,
                "QUESTLAB_RATE_LIMIT_STORE": "redis",
            }
            for index in range(2):
                log = tmp / f"worker{index}.log"
                services.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "questlab.cli", "worker", "--slots", str(slots)],
                        env=server_env(tmp / f"worker{index}", **extra),
                        stdout=log.open("wb"),
                        stderr=subprocess.STDOUT,
                    )
                )
        data = tmp / "server"
        data.mkdir(parents=True)
        port = free_port()
        log = data / "server.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "questlab.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=data,
            env=server_env(data, **extra),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        services.procs.append(proc)
        services.base = f"http://127.0.0.1:{port}"
        _wait_ready(services.base, proc, log)
        if celery:
            _wait_workers(services.base, tmp)
        return services
    except BaseException:
        services.stop()
        raise


def _wait_workers(base: str, tmp: Path) -> None:
    """Wait until both workers logged ``ready.`` and a run goes through."""
    deadline = time.monotonic() + SERVER_START_S
    logs = [tmp / "worker0.log", tmp / "worker1.log"]
    while not all(b"ready." in log.read_bytes() for log in logs):
        if time.monotonic() > deadline:
            raise SystemExit(
                "the workers did not get ready:\n" + "\n".join(p.read_text()[-2000:] for p in logs)
            )
        time.sleep(0.3)
    with Session() as http:
        http.get(base + "/")
        headers = {"X-CSRF-Token": http.cookies.get("questlab_csrf", "")}
        while http.post(base + "/api/run", json={"code": "print(1)"}, headers=headers).status_code != 200:
            if time.monotonic() > deadline:
                raise SystemExit("runs did not reach the workers")
            time.sleep(0.5)


# -- simulated clients ------------------------------------------------------------------------------

_addresses = itertools.count()
LESSONS: list[tuple[str, str]] = []
_ready: list[int] = [0]  # users whose on_start has ended in the current measurement
_current: list[Sample] = []  # the measurement in progress


def _csrf(user: HttpUser) -> dict[str, str]:
    return {"X-CSRF-Token": user.client.cookies.get("questlab_csrf", "")}


class _FromOwnAddress(HttpUser):
    """A client whose connections leave from a loopback address of its own."""

    abstract = True

    def on_start(self) -> None:
        """Bind the client to its address, get a CSRF cookie, then :meth:`begin`."""
        self.client.mount("http://", SourceAddressAdapter(loopback_address(next(_addresses))))
        self.client.get("/", name="read index")
        self.begin()
        _ready[0] += 1

    def begin(self) -> None:
        """What the client does once before its tasks (nothing here)."""


class Learner(_FromOwnAddress):
    """A signed-up learner: reads lessons, runs code, submits, syncs progress and comments.

    Each learner first does every action once, in a random order, then picks actions at random by
    :data:`WEIGHTS`, with a think time of :data:`THINK_S` between two actions.
    """

    WEIGHTS = {"read lesson": 5, "run": 3, "sync": 2, "submit": 1, "comment": 1}
    THINK_S = (1.0, 3.0)

    def wait_time(self) -> float:
        """Seconds of thought before the next action (uniform in :data:`THINK_S`)."""
        return random.uniform(*self.THINK_S)

    def begin(self) -> None:
        """Sign up (a new account per simulated learner)."""
        self.email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        self.read: list[str] = []
        self.runs = 0
        self.device = uuid.uuid4().hex[:16]
        self.first_round = random.sample(list(self.WEIGHTS), len(self.WEIGHTS))
        self.client.post(
            "/api/auth/signup",
            json={"email": self.email, "password": "correct horse battery"},
            headers=_csrf(self),
            name="signup",
        )

    @task
    def act(self) -> None:
        """Do the next action: the first round's next one, else one picked by weight."""
        if self.first_round:
            action = self.first_round.pop()
        else:
            action = random.choices(list(self.WEIGHTS), weights=list(self.WEIGHTS.values()))[0]
        getattr(self, f"do_{action.replace(' ', '_')}")()

    def do_read_lesson(self) -> None:
        """Open the next lesson page."""
        url, key = LESSONS[len(self.read) % len(LESSONS)]
        self.client.get(url, name="read lesson")
        if key not in self.read:
            self.read.append(key)

    def do_run(self) -> None:
        """Press Run on a small torch snippet."""
        self.runs += 1
        self.client.post("/api/run", json={"code": RUN_CODE}, headers=_csrf(self), name="run")

    def do_submit(self) -> None:
        """Submit the nn-module exercise's reference solution."""
        self.client.post(SUBMIT, json={"code": SOLUTION, "locale": "en"}, headers=_csrf(self), name="submit")

    def do_sync(self) -> None:
        """Sync the lessons read so far and the run count, as the browser's progress script does."""
        today = datetime.now(UTC).date().isoformat()
        payload = {
            "device": self.device,
            "tz": "UTC",
            "quests": {
                QUEST: {
                    "lessons_completed": self.read,
                    "code_runs": {today: self.runs},
                    "active_days": [today],
                }
            },
        }
        self.client.post("/api/progress/sync", json=payload, headers=_csrf(self), name="sync")

    def do_comment(self) -> None:
        """Post a comment on the nn-module lesson."""
        body = {"body": f"Load test note {uuid.uuid4().hex[:8]}: the shapes line up.", "parent_id": None}
        self.client.post(COMMENTS, json=body, headers=_csrf(self), name="comment")


class CalmRunner(_FromOwnAddress):
    """A visitor who presses Run now and then."""

    wait_time = between(0.5, 1.5)

    @task
    def run_code(self) -> None:
        """Press Run."""
        r = self.client.post("/api/run", json={"code": RUN_CODE}, headers=_csrf(self), name="calm run")
        if r.status_code == 200 and _current:
            _current[0].record_runner("calm run", r.json().get("duration_ms", 0))


class Greedy(HttpUser):
    """One of the greedy client's connections: Run without a pause, a fresh cookie every time."""

    wait_time = constant(0)

    def on_start(self) -> None:
        """Leave from the greedy client's single address."""
        self.client.mount("http://", SourceAddressAdapter(GREEDY_ADDRESS))
        _ready[0] += 1

    @task
    def run_code(self) -> None:
        """Press Run as a new visitor (a new CSRF cookie, so a new rate-limit key)."""
        token = uuid.uuid4().hex
        self.client.cookies.clear()
        self.client.cookies.set("questlab_csrf", token)
        self.client.post(
            "/api/run", json={"code": RUN_CODE}, headers={"X-CSRF-Token": token}, name="greedy run"
        )


# -- measuring --------------------------------------------------------------------------------------


@dataclass
class Sample:
    """What one measurement saw: response times per action, errors, status codes."""

    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    runner_ms: dict[str, list[float]] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0
    measuring: bool = False

    def record(self, name: str, response_time: float, response: Any, exception: Any) -> None:
        """Count one request (locust's ``request`` event), when measuring."""
        if not self.measuring:
            name = f"{name} (ramp-up)"
        self.times.setdefault(name, []).append(response_time)
        status = getattr(response, "status_code", 0) or 0
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if exception is not None or not 200 <= status < 300:
            self.errors[name] = self.errors.get(name, 0) + 1

    def record_runner(self, name: str, duration_ms: float) -> None:
        """Count the wall time a run took inside the runner (its result's ``duration_ms``), when measuring."""
        if self.measuring:
            self.runner_ms.setdefault(name, []).append(duration_ms)

    def summary(self) -> dict[str, Any]:
        """Throughput, percentiles per action (ms) and errors of the measured window; status counts of
        the whole run (ramp-up included); the runs' time inside the runner, where recorded."""
        seconds = max(self.ended - self.started, 1e-9)
        actions = {}
        for name, values in sorted(self.times.items()):
            values = sorted(values)
            actions[name] = {
                "count": len(values),
                "errors": self.errors.get(name, 0),
                "p50": percentile(values, 0.50),
                "p95": percentile(values, 0.95),
                "p99": percentile(values, 0.99),
            }
        measured = {k: v for k, v in actions.items() if not k.endswith("(ramp-up)")}
        return {
            "seconds": round(seconds, 1),
            "requests": sum(a["count"] for a in measured.values()),
            "throughput_rps": round(sum(a["count"] for a in measured.values()) / seconds, 1),
            "errors": sum(a["errors"] for a in measured.values()),
            "status_500": self.statuses.get(500, 0),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "actions": actions,
            "runner_ms": {
                name: {"p50": percentile(sorted(v), 0.5), "p95": percentile(sorted(v), 0.95)}
                for name, v in self.runner_ms.items()
            },
        }


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of sorted ``values`` (nearest rank), in ms rounded to 0.1; 0 when empty."""
    if not values:
        return 0.0
    rank = max(1, min(len(values), round(q * len(values) + 0.5)))
    return round(values[rank - 1], 1)


def measure(base: str, classes: dict[type[HttpUser], int], seconds: float) -> dict[str, Any]:
    """Start ``classes`` (user class → count) against ``base``, measure ``seconds`` once all started.

    Returns:
        :meth:`Sample.summary` of the measured window (ramp-up requests listed apart).
    """
    sample = Sample()
    _current[:] = [sample]
    environment = Environment(user_classes=list(classes), host=base)
    environment.events.request.add_listener(
        lambda name, response_time, response=None, exception=None, **_: sample.record(
            name, response_time, response, exception
        )
    )
    runner = environment.create_local_runner()
    users = sum(classes.values())
    for cls, count in classes.items():
        cls.fixed_count = count
    _ready[0] = 0
    runner.start(users, spawn_rate=max(5.0, users / 5))
    deadline = time.monotonic() + 180
    while _ready[0] < users and time.monotonic() < deadline:  # every on_start (sign-up) has ended
        gevent_sleep(0.1)
    sample.measuring, sample.started = True, time.monotonic()
    gevent_sleep(seconds)
    sample.ended = time.monotonic()
    sample.measuring = False
    runner.quit()
    summary = sample.summary()
    summary["users"] = users
    return summary


def print_summary(title: str, summary: dict[str, Any]) -> None:
    """Print one measurement as a small table."""
    print(f"\n== {title}: {summary['users']} users, {summary['seconds']} s")
    print(
        f"   throughput {summary['throughput_rps']} req/s ({summary['requests']} requests), "
        f"errors {summary['errors']}, 500s {summary['status_500']}, statuses {summary['statuses']}"
    )
    print(f"   {'action':24s} {'count':>6s} {'errors':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}")
    for name, a in summary["actions"].items():
        print(
            f"   {name:24s} {a['count']:6d} {a['errors']:6d} {a['p50']:8.1f} {a['p95']:8.1f} {a['p99']:8.1f}"
        )
    for name, r in summary["runner_ms"].items():
        print(f"   {name}: time inside the runner (duration_ms) p50 {r['p50']} ms, p95 {r['p95']} ms")
    sys.stdout.flush()


def _bounded_users(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or not all(1 <= c <= MAX_USERS for c in counts):
        raise argparse.ArgumentTypeError(f"user counts must be 1 to {MAX_USERS}")
    return counts


def _bounded_seconds(text: str) -> float:
    seconds = float(text)
    if not 1 <= seconds <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"seconds must be 1 to {MAX_SECONDS}")
    return seconds


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the arguments, start the services, run the scenarios, print and return the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=_bounded_users, default=[10, 50, 100], help="user counts (10,50,100)")
    parser.add_argument(
        "--seconds", type=_bounded_seconds, default=20.0, help="measured seconds per run (20)"
    )
    parser.add_argument("--scenario", choices=["all", "learners", "greedy"], default="all")
    parser.add_argument("--celery", action="store_true", help="two questlab workers through a private Redis")
    parser.add_argument(
        "--slots", type=int, default=2, help="runner slots of the server or of each worker (2)"
    )
    parser.add_argument(
        "--greedy-concurrency", type=int, default=8, help="the greedy client's connections (8)"
    )
    parser.add_argument(
        "--think", default="1,3", help="a learner's think time between actions, MIN,MAX s (1,3)"
    )
    parser.add_argument(
        "--address-limit",
        action="store_true",
        help="keep the default run limit per address (240 a minute) instead of raising it",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.greedy_concurrency <= 64:
        parser.error("--greedy-concurrency must be 1 to 64")
    try:
        low, high = (float(x) for x in args.think.split(","))
    except ValueError:
        parser.error("--think takes MIN,MAX in seconds, e.g. 1,3")
    if not 0 <= low <= high <= 60:
        parser.error("--think must be 0 <= MIN <= MAX <= 60")
    Learner.THINK_S = (low, high)
    if args.address_limit:
        from questlab.settings import Settings

        ADDRESS_LIMIT[0] = str(Settings.model_fields["run_rate_per_address_per_minute"].default)

    LESSONS[:] = lesson_paths()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        "runner": "celery (2 workers)" if args.celery else "in-process",
        "slots": args.slots,
        "run_rate_per_address_per_minute": int(ADDRESS_LIMIT[0]),
        "learners": [],
        "greedy": [],
    }
    tmp = Path(tempfile.mkdtemp(prefix="questlab-load-"))
    services = start_services(tmp, args.celery, args.slots)
    print(f"server {services.base} ({results['runner']} runner, {args.slots} slots), data in {tmp}")
    try:
        for users in args.users:
            if args.scenario in ("all", "learners"):
                summary = measure(services.base, {Learner: users}, args.seconds)
                print_summary("learners", summary)
                results["learners"].append(summary)
            if args.scenario in ("all", "greedy"):
                alone = measure(services.base, {CalmRunner: users}, args.seconds)
                print_summary("calm visitors alone", alone)
                beside = measure(
                    services.base, {CalmRunner: users, Greedy: args.greedy_concurrency}, args.seconds
                )
                beside["users"] = users
                print_summary(
                    f"calm visitors beside a greedy client ({args.greedy_concurrency} connections)", beside
                )
                p95_alone = alone["actions"].get("calm run", {}).get("p95", 0.0)
                p95_beside = beside["actions"].get("calm run", {}).get("p95", 0.0)
                ratio = round(p95_beside / p95_alone, 2) if p95_alone else None
                print(
                    f"   calm p95 alone {p95_alone} ms, beside the greedy client {p95_beside} ms: "
                    f"{ratio}× (goal: at most 2×)"
                )
                results["greedy"].append(
                    {
                        "users": users,
                        "alone": alone,
                        "beside": beside,
                        "p95_alone": p95_alone,
                        "p95_beside": p95_beside,
                        "ratio": ratio,
                    }
                )
    finally:
        services.stop()
        results["server_log_errors"] = _log_errors(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
    if results["server_log_errors"]:
        print("\nserver log errors:\n" + "\n".join(results["server_log_errors"][:20]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


def _log_errors(tmp: Path) -> list[str]:
    """Lines of the server's and workers' logs that report an error or a traceback."""
    found = []
    for log in sorted(tmp.rglob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if " ERROR " in line or "Traceback" in line:
                found.append(f"{log.name}: {line[:300]}")
    return found


if __name__ == "__main__":
    main()
