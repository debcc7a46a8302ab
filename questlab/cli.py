"""The ``questlab`` command line: serve, check content, migrate the database, list settings."""

from __future__ import annotations

import ipaddress
import os
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from questlab.settings import Settings

app = typer.Typer(
    help="questlab: gamified, hands-on programming quests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="Account commands.", no_args_is_help=True)
app.add_typer(users_app, name="users")
console = Console()
err_console = Console(stderr=True)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: QUESTLAB_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: QUESTLAB_PORT).")] = None,
    unsafe_no_sandbox: Annotated[
        bool,
        typer.Option(
            "--unsafe-no-sandbox", help="Allow a public address even when learner code cannot be sandboxed."
        ),
    ] = False,
    migrate: Annotated[bool, typer.Option(help="Apply database migrations before serving.")] = True,
) -> None:
    """Serve questlab over HTTP (SQLite and the bundled quests by default)."""
    import uvicorn

    from questlab import logs
    from questlab.db import upgrade

    settings = Settings()
    logs.configure(settings.log_format)
    host = host or settings.host
    port = port or settings.port
    if not is_loopback(host) and not unsafe_no_sandbox and settings.runner == "local":
        if settings.sandbox == "none":
            ok, reason = False, "QUESTLAB_SANDBOX=none"
        else:
            from questlab.runner.sandbox import probe_bwrap

            reason = probe_bwrap() or ""
            ok = not reason
        if not ok:
            err_console.print(
                f"[red]Refusing to listen on {host}: learner code cannot be sandboxed here ({reason}).[/]\n"
                "Install bubblewrap, listen on 127.0.0.1, or pass --unsafe-no-sandbox if you accept the risk."
            )
            raise typer.Exit(2)
        # On a public address the sandbox is required, not preferred: if it
        # fails to start after all, the server stops instead of falling back.
        settings = settings.model_copy(update={"sandbox": "bwrap"})
    if migrate:
        upgrade(settings.resolved_database_url())
    from questlab.web.app import create_app

    web = create_app(settings)
    failed: list[BaseException] = []
    if settings.sandbox == "bwrap":
        # The runner starts after the server does (pages answer at once); where the sandbox is
        # required, a failed start stops the server instead of leaving it up without Run.
        def stop(error: BaseException) -> None:
            failed.append(error)
            os.kill(os.getpid(), signal.SIGTERM)

        web.state.on_runner_failure = stop
    # log_config=None: uvicorn's own lines (access log included) go through the root handler, in
    # QUESTLAB_LOG_FORMAT and with the request id.
    uvicorn.run(web, host=host, port=port, log_level="info", log_config=None, proxy_headers=False)
    if failed:
        err_console.print(f"[red]Stopped: the sandbox could not start ({failed[0]}).[/]")
        raise typer.Exit(1)


@app.command()
def worker(
    slots: Annotated[
        int | None, typer.Option(min=1, max=64, help="Runs at once (default: QUESTLAB_RUNNER_SLOTS).")
    ] = None,
    capability: Annotated[
        list[str] | None,
        typer.Option(help="A capability this worker offers beyond cpu, e.g. cuda (repeatable)."),
    ] = None,
    unsafe_no_sandbox: Annotated[
        bool,
        typer.Option(
            "--unsafe-no-sandbox", help="Run learner code even when bubblewrap cannot sandbox it here."
        ),
    ] = False,
) -> None:
    """Start a runner worker: take run and grading jobs from the broker (QUESTLAB_RUNNER=celery).

    The broker is QUESTLAB_BROKER_URL, or QUESTLAB_REDIS_URL when unset; results and heartbeats go
    to QUESTLAB_REDIS_URL. A worker serves the public, so the sandbox is required unless
    --unsafe-no-sandbox (or QUESTLAB_SANDBOX=none) says otherwise.
    """
    from questlab import logs
    from questlab.runner import SandboxUnavailable
    from questlab.runner.remote import Worker

    settings = Settings()
    logs.configure(settings.log_format)
    sandbox = settings.sandbox
    if sandbox == "auto" and not unsafe_no_sandbox:
        sandbox = "bwrap"
    runner_worker = Worker(
        broker_url=settings.broker_url or settings.redis_url,
        redis_url=settings.redis_url,
        slots=slots or settings.runner_slots,
        sandbox=sandbox,
        capabilities=capability or [],
    )
    try:
        runner_worker.serve()
    except SandboxUnavailable as error:
        err_console.print(
            f"[red]Stopped: learner code cannot be sandboxed here ({error}).[/] Install bubblewrap "
            "(scripts/system-packages), or pass --unsafe-no-sandbox if you accept the risk."
        )
        raise typer.Exit(2) from None


@app.command()
def check(
    path: Annotated[Path | None, typer.Argument(help="A quests folder or one quest folder.")] = None,
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors.")] = False,
    run: Annotated[bool, typer.Option(help="Run code blocks and exercises in the sandbox.")] = True,
    lesson: Annotated[
        str | None,
        typer.Option(help="Run only these lessons: a chapter/lesson prefix, e.g. networks/hooks."),
    ] = None,
) -> None:
    """Validate every content file (and run code blocks and exercises); exit 1 on errors."""
    from questlab.content.check import check_content

    root = path or Settings().quests_dir
    raise typer.Exit(check_content(root, strict=strict, run=run, console=console, only=lesson))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply database migrations (creates the SQLite file on first use)."""
    from questlab.db import upgrade

    settings = Settings()
    url = settings.resolved_database_url()
    upgrade(url, revision)
    console.print(f"[green]Database is at revision {revision}[/] ({url.split('@')[-1]})")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Sign-in email of the account.")],
    password: Annotated[
        str | None,
        typer.Option(
            help="Password (8 to 256 characters). Visible in the shell's history and the process "
            "list: prefer the prompt or --password-stdin."
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    role: Annotated[str, typer.Option(help="learner, author, moderator or admin.")] = "learner",
    display_name: Annotated[
        str | None, typer.Option(help="Public name (default: the part before @).")
    ] = None,
) -> None:
    """Create an account, e.g. the first admin: questlab users create --email me@example.com --role admin.

    The password comes from ``--password``, from stdin with ``--password-stdin`` (for scripts:
    ``printf '%s\\n' "$PW" | questlab users create --email E --password-stdin``), or from a hidden
    prompt asked twice when stdin is a terminal. Exits 1 with a sentence when none is given.
    """
    import sys

    if password is None:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        elif sys.stdin.isatty():
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            err_console.print(
                "[red]No password: stdin is not a terminal, so there is nothing to prompt on. "
                "Pipe it with --password-stdin.[/]"
            )
            raise typer.Exit(1)
    from questlab.accounts.service import AccountError, create_user
    from questlab.db import Database

    database = Database(Settings().resolved_database_url())
    try:
        with database.session() as session:
            user = create_user(session, email, password, display_name=display_name, role=role)
            summary = f"{user.email} (id {user.id}, role {user.role})"
    except AccountError as error:
        err_console.print(f"[red]Could not create the account: {error}[/]")
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    console.print(f"[green]Created[/] {summary}")


@app.command("regrade")
def regrade(
    lesson: Annotated[str, typer.Argument(help="QUEST/CHAPTER/LESSON, e.g. pytorch/networks/nn-module.")],
) -> None:
    """Re-judge the stored submissions of one exercise with its current checks; notify flipped learners.

    XP already earned stays; a submission that now passes records the pass.
    """
    import asyncio

    from questlab.content.loader import load_catalog
    from questlab.db import Database
    from questlab.grading.judge.bank import GraderBroken
    from questlab.progress.regrade import regrade_lesson
    from questlab.runner import RunnerService

    settings = Settings()
    parts = lesson.strip("/").split("/")
    if len(parts) != 3:
        err_console.print(
            "[red]Give the exercise as QUEST/CHAPTER/LESSON, e.g. pytorch/networks/nn-module[/]"
        )
        raise typer.Exit(2)
    catalog = load_catalog(settings.quests_dir, preview=settings.preview)
    quest = catalog.quests.get(parts[0])
    found = quest.find(parts[1], parts[2]) if quest else None
    if found is None or found.exercise is None or not found.exercise.graded:
        err_console.print(f"[red]No graded exercise at {lesson}[/]")
        raise typer.Exit(2)
    database = Database(settings.resolved_database_url())

    async def run() -> object:
        runner = RunnerService(slots=settings.runner_slots, queue_size=64, sandbox=settings.sandbox)
        await runner.start()
        try:
            return await regrade_lesson(database, quest, found, runner)
        finally:
            await runner.close()

    try:
        report = asyncio.run(run())
    except GraderBroken as broken:
        err_console.print(f"[red]The exercise's reference solution does not pass its checks: {broken}[/]")
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    console.print(
        f"regraded {report.judged} submission(s) of {lesson}: {len(report.now_pass)} now pass, "
        f"{len(report.now_fail)} no longer pass (XP kept), {report.unchanged} unchanged; "
        "the learners whose result changed were notified"
    )


def sandbox_choice(mode: str) -> str:
    """What ``QUESTLAB_SANDBOX=mode`` gives on this machine, in words, from a quick probe.

    The probe (:func:`questlab.runner.sandbox.probe_bwrap`: bubblewrap installed, root, cgroup
    v1 writable) is what ``auto`` decides by; the server's log then says what its start chose
    (a start can still fail the sandbox's own test run, and then ``auto`` falls back).

    Returns:
        e.g. ``"auto: bwrap here"``, ``"auto: none here (bwrap is not installed ...)"``,
        ``"bwrap: cannot work here (...)"`` or ``"none"``.
    """
    if mode == "none":
        return "none"
    from questlab.runner.sandbox import probe_bwrap

    reason = probe_bwrap()
    if mode == "auto":
        return "auto: bwrap here" if reason is None else f"auto: none here ({reason})"
    return "bwrap" if reason is None else f"bwrap: cannot work here ({reason})"


@app.command("settings")
def show_settings() -> None:
    """List every setting with its environment variable, current value and description.

    ``QUESTLAB_SANDBOX`` also says what it chooses here. Nothing is cut: in a terminal long
    values wrap; piped, each setting is one line.
    """
    settings = Settings()
    rows = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if name == "secret_key" and value:
            value = "(set)"
        elif name == "sandbox":
            value = sandbox_choice(value)
        rows.append((f"QUESTLAB_{name.upper()}", str(value), field.description or ""))
    table = Table("variable", "value", "description")
    table.columns[0].no_wrap = True
    for column in table.columns[1:]:
        column.overflow = "fold"  # wrap, and break a long word, rather than end it with an ellipsis
    for row in rows:
        table.add_row(*row)
    out = console
    if not console.is_terminal:  # piped or captured: as wide as the longest row, one line each
        width = sum(max(len(row[i]) for row in rows) for i in range(3)) + 10
        out = Console(width=max(width, 80), color_system=None)
    out.print(table)


if __name__ == "__main__":
    app()
