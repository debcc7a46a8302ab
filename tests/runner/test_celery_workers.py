"""Runs through Celery: `questlab worker` processes against a real Redis (and RabbitMQ), and the
faults a learner must get a clear answer for (no worker, a worker killed mid-job, Redis down).

Each test module gets its own redis-server on a free port, so stopping it never touches the
machine's shared Redis.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from questlab.runner.remote import HEARTBEAT_PREFIX, CeleryRunner, RunnerUnavailable, queue_for
from questlab.settings import REPO_DIR, Settings
from tests.helpers import csrf_headers
from tests.services import RedisServer, WorkerProcess

pytestmark = pytest.mark.anyio
SUBMIT = "/api/quests/pytorch/networks/nn-module/submit"
EXERCISE = REPO_DIR / "quests" / "pytorch" / "02-networks" / "01-nn-module" / "exercise"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(redis_server: RedisServer, tmp_path: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(redis_server.url, tmp_path / "worker.log")
    process.wait_ready()
    yield process
    process.stop()


def _settings(tmp_path: Path, sqlite_url: str, redis_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        quests_dir=REPO_DIR / "quests",
        database_url=sqlite_url,
        runner="celery",
        redis_url=redis_url,
        secret_key="s",
    )


async def test_a_run_and_a_submission_go_through_a_worker(
    worker: WorkerProcess, redis_server: RedisServer, tmp_path: Path, sqlite_url: str
) -> None:
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    app = create_app(_settings(tmp_path, sqlite_url, redis_server.url))
    async with app.router.lifespan_context(app):
        await wait_for_runner(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as http:
            headers = await csrf_headers(http)
            code = "import os, torch\nprint(torch.arange(4).sum().item(), os.getuid() != 0)"
            r = await http.post("/api/run", json={"code": code}, headers=headers)
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "ok" and r.json()["stdout"] == "6 True\n"
            assert (await http.get("/-/health")).json()["runner"] == "sandboxed"
            # A submission: the trusted reference runs and the learner's run both on the worker.
            await http.get("/quests/pytorch/networks/nn-module/")  # warms the grading bank
            solution = (EXERCISE / "solution.py").read_text()
            graded = await http.post(SUBMIT, json={"code": solution, "locale": "en"}, headers=headers)
            assert graded.status_code == 200 and graded.json()["status"] == "pass", graded.text
            starter = (EXERCISE / "starter.py").read_text()
            failed = await http.post(SUBMIT, json={"code": starter, "locale": "en"}, headers=headers)
            assert failed.status_code == 200 and failed.json()["status"] == "fail"
    assert worker.logged("in the queue")


async def test_no_worker_is_a_clear_503_at_once(
    redis_server: RedisServer, tmp_path: Path, sqlite_url: str
) -> None:
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    client = redis.Redis.from_url(redis_server.url)
    for key in client.keys(HEARTBEAT_PREFIX + "*"):  # workers of earlier tests, killed ones included
        client.delete(key)
    app = create_app(_settings(tmp_path, sqlite_url, redis_server.url))
    async with app.router.lifespan_context(app):
        await wait_for_runner(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as http:
            headers = await csrf_headers(http)
            for lang, words in (("en", "No code runner is online"), ("ko", "온라인인 코드 실행기가 없어서")):
                started = time.monotonic()
                r = await http.post(f"/api/run?lang={lang}", json={"code": "print(1)"}, headers=headers)
                assert time.monotonic() - started < 3
                assert r.status_code == 503 and words in r.json()["message"], r.text
                assert int(r.headers["Retry-After"]) >= 1
            graded = await http.post(SUBMIT, json={"code": "x = 1", "locale": "en"}, headers=headers)
            assert graded.status_code == 503 and "No code runner is online" in graded.json()["message"]


async def test_ready_once_a_worker_comes_up_without_a_run(
    redis_server: RedisServer, tmp_path: Path, sqlite_url: str
) -> None:
    """A web process started before its workers turns ready when one comes up, with no run first
    (a load balancer that waits for /-/health/ready sends no run before it is ready)."""
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    client = redis.Redis.from_url(redis_server.url)
    for key in client.keys(HEARTBEAT_PREFIX + "*"):
        client.delete(key)
    app = create_app(_settings(tmp_path, sqlite_url, redis_server.url))
    async with app.router.lifespan_context(app):
        await wait_for_runner(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as http:
            before = await http.get("/-/health/ready")
            assert before.status_code == 503 and before.json()["runner"] == "starting", before.text
            worker = WorkerProcess(redis_server.url, tmp_path / "late-worker.log")
            try:
                worker.wait_ready()
                deadline = time.monotonic() + 10
                while (ready := await http.get("/-/health/ready")).status_code != 200:
                    assert time.monotonic() < deadline, ready.text
                    await asyncio.sleep(0.2)
                assert ready.json() == {"status": "ready", "database": "up", "runner": "sandboxed"}
            finally:
                worker.stop()


async def test_a_capability_no_worker_offers_is_refused_by_name(
    worker: WorkerProcess, redis_server: RedisServer
) -> None:
    runner = CeleryRunner(broker_url=redis_server.url, redis_url=redis_server.url)
    await runner.start()
    try:
        assert (await runner.run("print(1)")).stdout == "1\n"
        with pytest.raises(RunnerUnavailable) as refused:
            await runner.run("print(1)", capability="cuda")
        assert refused.value.reason == "no_worker" and refused.value.capability == "cuda"
    finally:
        await runner.close()


async def test_a_worker_offering_a_capability_takes_those_jobs(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    special = WorkerProcess(redis_server.url, tmp_path / "special.log", None, "--capability", "bigmem")
    try:
        special.wait_ready()
        runner = CeleryRunner(broker_url=redis_server.url, redis_url=redis_server.url)
        await runner.start()
        try:
            result = await runner.run("print('on the bigmem worker')", capability="bigmem")
            assert result.status == "ok" and result.stdout == "on the bigmem worker\n"
        finally:
            await runner.close()
        assert special.logged("in the queue")
    finally:
        special.stop()


async def test_a_worker_killed_mid_job_answers_within_the_limit_and_never_runs_it_twice(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    from questlab.runner import RunLimits

    first = WorkerProcess(redis_server.url, tmp_path / "first.log")
    first.wait_ready()
    runner = CeleryRunner(
        broker_url=redis_server.url, redis_url=redis_server.url, limits=RunLimits(wall_seconds=4)
    )
    await runner.start()
    try:
        job = asyncio.ensure_future(runner.run("import time\nprint('started', flush=True)\ntime.sleep(3)"))
        deadline = time.monotonic() + 20
        while b"received" not in first.log.read_bytes() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        started = time.monotonic()
        first.kill()
        result = await job
        waited = time.monotonic() - started
        assert result.status == "killed" and "no runner worker answered" in result.message
        assert waited < 4 + 5 + 1  # the wall limit plus the grace, never a hang
        # The job was acknowledged on receipt: nothing is left for another worker to run again.
        assert redis.Redis.from_url(redis_server.url).llen(queue_for(None)) == 0
        second = WorkerProcess(redis_server.url, tmp_path / "second.log")
        try:
            second.wait_ready()
            await asyncio.sleep(1.5)
            assert "in the queue" not in second.log.read_text()  # the killed job did not come back
            ok = await runner.run("print('next run')")
            assert ok.status == "ok" and ok.stdout == "next run\n"
        finally:
            second.stop()
    finally:
        first.kill()
        await runner.close()


async def test_redis_down_fails_clearly_pages_still_serve_and_runs_recover(
    tmp_path: Path, sqlite_url: str
) -> None:
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    server = RedisServer()
    server.start()
    worker = WorkerProcess(server.url, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        app = create_app(_settings(tmp_path, sqlite_url, server.url))
        async with app.router.lifespan_context(app):
            await wait_for_runner(app)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as http:
                headers = await csrf_headers(http)
                assert (
                    await http.post("/api/run", json={"code": "print(1)"}, headers=headers)
                ).status_code == 200
                server.stop()
                await asyncio.sleep(1.2)  # past the runner's cache of the workers
                started = time.monotonic()
                r = await http.post("/api/run?lang=en", json={"code": "print(1)"}, headers=headers)
                assert time.monotonic() - started < 6
                assert r.status_code == 503 and "cannot be reached" in r.json()["message"], r.text
                page = await http.get("/quests/pytorch/networks/nn-module/")
                assert page.status_code == 200
                server.start()  # the same port: web and worker reconnect without a restart
                deadline = time.monotonic() + 60
                while True:
                    r = await http.post("/api/run", json={"code": "print(2)"}, headers=headers)
                    if r.status_code == 200:
                        break
                    assert time.monotonic() < deadline, r.text
                    await asyncio.sleep(1)
                assert r.json()["stdout"] == "2\n"
    finally:
        worker.stop()
        server.stop()


async def test_rabbitmq_as_the_broker(redis_server: RedisServer, tmp_path: Path) -> None:
    amqp = "amqp://guest:guest@127.0.0.1:5672//"
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError:
        pytest.fail("RabbitMQ must run on 127.0.0.1:5672 for this test (it does on CI machines)")
    rabbit = WorkerProcess(redis_server.url, tmp_path / "rabbit.log", amqp)
    try:
        rabbit.wait_ready()
        runner = CeleryRunner(broker_url=amqp, redis_url=redis_server.url)
        await runner.start()
        try:
            result = await runner.run("print(sum(range(10)))")
            assert result.status == "ok" and result.stdout == "45\n"
        finally:
            await runner.close()
    finally:
        rabbit.stop()
