"""Runner workers on Celery: code runs executed by ``questlab worker`` processes, not the web process.

With ``QUESTLAB_RUNNER=celery`` the web process sends each run (a learner's program, or a
submission with its grading harness) as a Celery task to a broker (Redis at
``QUESTLAB_REDIS_URL`` by default; RabbitMQ or another broker through
``QUESTLAB_BROKER_URL``). A worker takes it, executes it in its own warm sandbox pool
(:class:`questlab.runner.RunnerService`, the same limits, sandbox and results JSON as the
in-process runner) and pushes the result JSON to a Redis list that the web process waits on
with ``BLPOP``.

Why the result goes through a Redis list rather than Celery's result backend: ``BLPOP`` wakes
the one waiting request the moment the result lands (no polling, no shared pub/sub consumer
between threads, which Celery's Redis result consumer does not support), and the key expires
by itself when nobody waits any more.

At most once: a task is acknowledged when a worker receives it (``task_acks_late=False``), is
never retried or re-published, and carries an ``expires`` time equal to the web's wait; a
worker killed mid-job loses the job (the learner is told to run again) instead of a second
worker running the learner's code twice. Grading verdicts and XP are decided by the web
process from the result, once.

Workers advertise themselves in Redis (``questlab:worker:<name>``, a JSON object refreshed
every :data:`HEARTBEAT_S` seconds with a time-to-live of :data:`HEARTBEAT_TTL_S`): their
capabilities (``cpu`` always, e.g. ``cuda``), slots and sandbox mode. A worker consumes the
queue of each capability it offers (:func:`queue_for`); the web refuses at once, with a
sentence, a run that no live worker can serve.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from questlab.logs import request_id  # the web request's id, carried to the worker's log line
from questlab.runner.limits import RunLimits
from questlab.runner.result import RunResult
from questlab.runner.service import RunnerUnavailable

log = logging.getLogger("questlab.runner")

TASK_NAME = "questlab.run"
"""The Celery task name of a run (the web sends by name; only workers define the task)."""

HEARTBEAT_PREFIX = "questlab:worker:"
RESULT_PREFIX = "questlab:result:"
HEARTBEAT_S = 3.0
"""Seconds between a worker's heartbeats."""
HEARTBEAT_TTL_S = 10
"""Seconds a heartbeat lives: a worker silent that long (killed, cut off) is no longer offered jobs."""
RESULT_TTL_S = 120
"""Seconds a result waits in Redis for a web process that no longer waits (then it expires)."""
WAIT_GRACE_S = 5.0
"""Seconds the web waits beyond a run's wall-clock limit (queueing, transfer, start of the child)."""
WORKER_CACHE_S = 1.0
"""Seconds the web trusts its last read of the workers' heartbeats."""


def queue_for(capability: str | None) -> str:
    """The Celery queue of runs needing ``capability`` (``None`` or ``"cpu"``: the default queue)."""
    return "questlab" if capability in (None, "cpu") else f"questlab.{capability}"


def celery_app(broker_url: str) -> Any:
    """A Celery app configured for questlab's runs.

    Args:
        broker_url: e.g. ``redis://127.0.0.1:6379/0`` or ``amqp://guest:guest@127.0.0.1:5672//``.

    Returns:
        A :class:`celery.Celery` without a result backend (results travel through Redis lists).
    """
    from celery import Celery

    app = Celery("questlab", broker=broker_url)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=False,  # acknowledged on receipt: a lost worker never causes a second run
        task_reject_on_worker_lost=False,
        task_publish_retry=False,  # a broker outage is reported at once, not hidden by retries
        task_default_queue=queue_for(None),
        worker_prefetch_multiplier=1,  # a worker holds only the jobs it is running
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_connection_timeout=2.0,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"socket_timeout": 5.0, "socket_connect_timeout": 2.0},
    )
    return app


class CeleryRunner:
    """The web process's runner when ``QUESTLAB_RUNNER=celery``: same interface as
    :class:`questlab.runner.RunnerService` (``run``, ``starting``, ``sandboxed``, ``chosen``,
    ``start_soon``, ``close``), executed by ``questlab worker`` processes.

    Args:
        broker_url: Celery broker URL.
        redis_url: Redis holding heartbeats and results (may be the broker).
        limits: default limits of a run.
        max_waiting: runs that may wait for their result at once (each holds a Redis connection).

    Attributes:
        mode: ``"celery"``.
        starting: True until :meth:`start` has connected once.
        chosen: ``"bwrap"`` when every live worker sandboxes, ``"none"`` when one does not,
            ``None`` before any worker was seen.
        sandboxed: ``chosen == "bwrap"``.
    """

    mode = "celery"

    def __init__(
        self,
        *,
        broker_url: str,
        redis_url: str,
        limits: RunLimits = RunLimits(),
        max_waiting: int = 256,
    ) -> None:
        self.broker_url, self.redis_url, self.limits = broker_url, redis_url, limits.validate()
        self.max_waiting = max_waiting
        self.starting = False
        self.chosen: str | None = None
        self.sandbox_description = "runs go to questlab worker processes"
        self._app: Any = None
        self._redis: Any = None
        self._sender = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="questlab-send")
        self._workers: list[dict[str, Any]] = []
        self._queued = 0
        self._workers_read = 0.0
        self._started = 0.0

    @property
    def slots(self) -> int:
        """Slots of the live workers together (at the last read of their heartbeats)."""
        return sum(int(w.get("slots", 0)) for w in self._workers)

    @property
    def busy_slots(self) -> int:
        """Slots the live workers said were running a program (at their last heartbeat)."""
        return sum(int(w.get("busy", 0)) for w in self._workers)

    @property
    def queue_depth(self) -> int:
        """Jobs waiting in the default queue (read with the heartbeats; 0 when the broker is not
        ``redis_url``)."""
        return self._queued

    @property
    def sandboxed(self) -> bool:
        """Whether every live worker runs learner code in the bubblewrap sandbox."""
        return self.chosen == "bwrap"

    def start_soon(self) -> asyncio.Task[None]:
        """Begin :meth:`start` as a task of the running loop and return it."""
        self.starting, self._started = True, time.monotonic()
        return asyncio.get_running_loop().create_task(self.start(), name="questlab-celery-start")

    def start_retry_after(self) -> float:
        """Seconds until a start in progress is expected to be done (at least 1)."""
        return 1.0

    async def start(self) -> None:
        """Build the Celery app and the Redis client and read the workers once.

        Never fails because a worker or the broker is missing: each run then says so.
        """
        import redis.asyncio as aioredis

        self.starting = True
        try:
            self._app = celery_app(self.broker_url)
            # No socket timeout: BLPOP blocks for as long as a run may take, and its own timeout
            # (guarded below by asyncio.wait_for) ends every wait.
            pool = aioredis.BlockingConnectionPool.from_url(
                self.redis_url,
                max_connections=self.max_waiting + 8,
                timeout=2,
                socket_connect_timeout=2,
                socket_timeout=None,
            )
            self._redis = aioredis.Redis(connection_pool=pool)
            try:
                await self.workers(fresh=True)
            except Exception as error:  # noqa: BLE001 - Redis may come later
                log.warning("runner: cannot read the workers from %s yet: %s", _public(self.redis_url), error)
            log.info(
                "runner: runs go to questlab workers through %s (%d worker(s) online)",
                _public(self.broker_url),
                len(self._workers),
            )
        finally:
            self.starting = False

    async def workers(self, fresh: bool = False) -> list[dict[str, Any]]:
        """The live workers' heartbeats (cached for :data:`WORKER_CACHE_S` seconds).

        Raises:
            redis.exceptions.RedisError: when Redis cannot be reached.
        """
        now = time.monotonic()
        if fresh or now - self._workers_read > WORKER_CACHE_S:
            keys = [key async for key in self._redis.scan_iter(match=HEARTBEAT_PREFIX + "*", count=100)]
            values = await self._redis.mget(keys) if keys else []
            workers = []
            for raw in values:
                try:
                    workers.append(json.loads(raw))
                except (TypeError, ValueError):
                    continue
            self._workers, self._workers_read = workers, now
            if self.broker_url == self.redis_url:
                self._queued = int(await self._redis.llen(queue_for(None)))
            modes = {w.get("sandbox") for w in workers}
            self.chosen = None if not workers else ("bwrap" if modes == {"bwrap"} else "none")
        return self._workers

    async def run(
        self,
        code: str,
        *,
        limits: RunLimits | None = None,
        harness: str | None = None,
        capability: str | None = None,
        owner: str = "",
    ) -> RunResult:
        """Run ``code`` on a worker and return its result.

        Args:
            code: the learner's Python source.
            limits: this run's limits (default: the runner's).
            harness: trusted grading code run in the same child afterwards.
            capability: what the run needs from its worker (``None``: any worker).
            owner: accepted for the interface; the broker's queue is first-come, first-served.

        Returns:
            The worker's result; ``status="killed"`` with a sentence when no result came within
            the wall-clock limit plus :data:`WAIT_GRACE_S` (a worker killed mid-job, a stuck
            worker: the job is not run again).

        Raises:
            RunnerStarting: never (kept for the interface), RunnerUnavailable: no live worker
            offers ``capability``, or the broker or Redis cannot be reached.
        """
        if self._app is None:
            raise RuntimeError("call 'await CeleryRunner.start()' before running code")
        limits = (limits or self.limits).validate()
        wanted = capability or "cpu"
        try:
            workers = await self.workers()
        except Exception as error:  # noqa: BLE001 - any Redis failure means "cannot send now"
            log.error("runner: Redis cannot be reached: %s", error)
            raise RunnerUnavailable("broker_down", capability) from error
        if not any(wanted in w.get("capabilities", ()) for w in workers):
            raise RunnerUnavailable("no_worker", capability)
        job = uuid.uuid4().hex
        wait_s = limits.wall_seconds + WAIT_GRACE_S
        payload = {
            "job": job,
            "code": code,
            "harness": harness,
            "limits": limits.to_json(),
            "request_id": request_id.get(),
            "sent": time.time(),
        }
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._sender, self._send, payload, queue_for(capability), wait_s)
        except Exception as error:  # noqa: BLE001 - kombu/redis/amqp errors alike
            log.error("runner: the broker refused run %s: %s", job, error)
            raise RunnerUnavailable("broker_down", capability) from error
        try:
            reply = await asyncio.wait_for(
                self._redis.blpop([RESULT_PREFIX + job], timeout=wait_s), wait_s + 3
            )
        except TimeoutError:
            reply = None
        except Exception as error:  # noqa: BLE001 - Redis went away while waiting
            log.error("runner: lost Redis while waiting for run %s: %s", job, error)
            raise RunnerUnavailable("broker_down", capability) from error
        if reply is None:
            log.error("runner: no worker answered run %s within %.0f s", job, wait_s)
            return RunResult(
                status="killed",
                duration_ms=(time.monotonic() - started) * 1000,
                message=f"no runner worker answered within {wait_s:g} s; please run it again",
            )
        return RunResult.from_json(json.loads(reply[1]))

    def _send(self, payload: dict[str, Any], queue: str, wait_s: float) -> None:
        self._app.send_task(
            TASK_NAME, args=[payload], queue=queue, expires=wait_s, retry=False, ignore_result=True
        )

    async def close(self) -> None:
        """Close the Redis connections and the sender threads."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        self._sender.shutdown(wait=False, cancel_futures=True)


def _public(url: str) -> str:
    """``url`` without a password, for logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


class Worker:
    """A runner worker: a warm sandbox pool serving Celery run jobs (``questlab worker``).

    Args:
        broker_url: Celery broker URL.
        redis_url: Redis for heartbeats and results.
        slots: runs executed at once (one Celery thread and one sandbox slot each).
        sandbox: ``auto``, ``bwrap`` or ``none`` (as :class:`questlab.runner.RunnerService`).
        capabilities: what this worker offers beyond ``cpu`` (e.g. ``["cuda"]``).
        name: the worker's name in heartbeats (default ``<host>-<pid>``).
    """

    def __init__(
        self,
        *,
        broker_url: str,
        redis_url: str,
        slots: int = 2,
        sandbox: str = "auto",
        capabilities: list[str] | None = None,
        name: str | None = None,
    ) -> None:
        from questlab.runner.service import RunnerService

        self.broker_url, self.redis_url, self.slots = broker_url, redis_url, slots
        self.capabilities = ["cpu", *sorted(set(capabilities or []) - {"cpu"})]
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.runner = RunnerService(slots=slots, queue_size=slots, sandbox=sandbox)
        self._stop = threading.Event()
        self._redis: Any = None

    def heartbeat(self) -> dict[str, Any]:
        """What this worker advertises: name, capabilities, slots, sandbox mode, pid."""
        return {
            "name": self.name,
            "capabilities": self.capabilities,
            "slots": self.slots,
            "busy": self.runner.busy_slots,
            "sandbox": self.runner.chosen,
            "pid": os.getpid(),
        }

    def _beat(self) -> None:
        while not self._stop.is_set():
            try:
                self._redis.set(
                    HEARTBEAT_PREFIX + self.name, json.dumps(self.heartbeat()), ex=HEARTBEAT_TTL_S
                )
            except Exception as error:  # noqa: BLE001 - Redis may come back; keep beating
                log.warning("worker: heartbeat failed: %s", error)
            self._stop.wait(HEARTBEAT_S)

    def execute(self, payload: dict[str, Any]) -> None:
        """Run one job and push its result JSON to ``questlab:result:<job>``.

        Args:
            payload: ``{"job", "code", "harness", "limits", "request_id", "sent"}`` (``sent``: the
                sender's clock, seconds since the epoch, for the queue-wait log) as sent by
                :class:`CeleryRunner`.
        """
        job = str(payload.get("job", ""))
        rid = payload.get("request_id")
        token = request_id.set(rid if isinstance(rid, str) else None)  # this job's log lines carry it
        try:
            self._execute(job, payload)
        finally:
            request_id.reset(token)

    def _execute(self, job: str, payload: dict[str, Any]) -> None:
        started = time.monotonic()
        sent = payload.get("sent")
        queued_ms = (time.time() - sent) * 1000 if isinstance(sent, (int, float)) else float("nan")
        try:
            limits = RunLimits.from_json(dict(payload.get("limits") or {}))
            result = self.runner.run_sync(
                str(payload.get("code", "")), limits=limits, harness=payload.get("harness")
            )
        except Exception as error:  # noqa: BLE001 - the learner gets a sentence, the worker lives on
            log.exception("worker: run %s failed in the worker", job)
            result = RunResult(status="error", message=f"the runner worker failed: {type(error).__name__}")
        data = json.dumps(result.to_json())
        pipe = self._redis.pipeline()
        pipe.rpush(RESULT_PREFIX + job, data)
        pipe.expire(RESULT_PREFIX + job, RESULT_TTL_S)
        pipe.execute()
        log.info(
            "worker: run %s %s in %.0f ms after %.0f ms in the queue (request %s)",
            job,
            result.status,
            (time.monotonic() - started) * 1000,
            queued_ms,
            payload.get("request_id") or "-",
        )

    def serve(self, loglevel: str = "INFO") -> None:
        """Start the sandbox pool, advertise, and take jobs until stopped (blocks).

        Raises:
            SandboxUnavailable: with ``sandbox="bwrap"`` when bubblewrap cannot work here.
        """
        import redis

        self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.runner.run_sync("pass")  # starts the warm parent and proves a run works
        log.info(
            "worker %s: %d slot(s), sandbox %s, capabilities %s, broker %s",
            self.name,
            self.slots,
            self.runner.chosen,
            ",".join(self.capabilities),
            _public(self.broker_url),
        )
        app = celery_app(self.broker_url)
        app.task(name=TASK_NAME, ignore_result=True)(self.execute)
        beat = threading.Thread(target=self._beat, name="questlab-heartbeat", daemon=True)
        beat.start()
        try:
            app.worker_main(
                [
                    "worker",
                    "--pool=threads",
                    f"--concurrency={self.slots}",
                    f"--queues={','.join(queue_for(c) for c in self.capabilities)}",
                    f"--hostname=questlab@{self.name}",
                    f"--loglevel={loglevel}",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ]
            )
        finally:
            self._stop.set()
            try:
                self._redis.delete(HEARTBEAT_PREFIX + self.name)
            except Exception:  # noqa: BLE001, S110 - the key expires by itself
                pass
            self.runner.close_sync()
