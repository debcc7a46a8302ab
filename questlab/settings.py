"""Settings: one pydantic-settings class, read from ``QUESTLAB_*`` environment variables.

The CLI (``questlab settings``), the README's table of settings and a test all
read :class:`Settings`, so a setting without a description fails the test suite.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


class Settings(BaseSettings):
    """Every operator-facing setting of questlab.

    Each field is read from the environment variable ``QUESTLAB_<NAME>`` (for
    example ``QUESTLAB_DATABASE_URL``) or from a ``.env`` file in the working
    directory. Paths are resolved relative to the working directory.
    """

    model_config = SettingsConfigDict(env_prefix="QUESTLAB_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the SQLite database and the secret key file; created on start.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user@host/db. "
            "Empty means SQLite at <data_dir>/questlab.sqlite3."
        ),
    )
    quests_dir: Path = Field(
        default=REPO_DIR / "quests",
        description="Folder holding one sub-folder per quest (quest.toml inside each).",
    )
    secret_key: str | None = Field(
        default=None,
        description=(
            "Secret used to sign tokens and cookies. Empty means a random key generated "
            "once and kept in <data_dir>/secret_key (mode 600)."
        ),
    )
    preview: bool = Field(
        default=False,
        description="Preview mode for authors: draft lessons are listed and served.",
    )
    default_locale: Literal["ko", "en"] = Field(
        default="ko", description="Locale used when neither ?lang, cookie nor Accept-Language choose one."
    )
    host: str = Field(default="127.0.0.1", description="Address `questlab serve` listens on.")
    port: int = Field(default=8000, description="Port `questlab serve` listens on.")
    sandbox: Literal["auto", "bwrap", "none"] = Field(
        default="auto",
        description=(
            "How learner code is isolated: bwrap (bubblewrap, required to serve the public), "
            "none (local single user only), or auto (bwrap when it works here)."
        ),
    )
    runner_slots: int = Field(default=2, ge=1, le=64, description="Learner programs run at the same time.")
    runner_queue: int = Field(
        default=256,
        ge=0,
        le=4096,
        description="Most runs that may wait for a slot (a memory bound; runner_max_wait_s refuses first).",
    )
    runner_max_wait_s: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="Longest expected wait for a slot, in seconds, that a run is queued for; then busy.",
    )
    run_rate_per_minute: int = Field(
        default=60, ge=1, description="Code runs and submissions allowed per visitor per minute."
    )
    run_rate_per_address_per_minute: int = Field(
        default=240,
        ge=1,
        description="Code runs and submissions allowed per client address per minute (all its visitors).",
    )
    runner: Literal["local", "celery"] = Field(
        default="local",
        description=(
            "Where learner code runs: local (a sandbox pool inside this server process) or celery "
            "(questlab worker processes, reached through the broker)."
        ),
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="Redis for the celery runner: workers' heartbeats and run results (and the broker).",
    )
    broker_url: str | None = Field(
        default=None,
        description="Celery broker of the celery runner when it is not redis_url, e.g. amqp://guest@host//.",
    )
    rate_limit_store: Literal["memory", "redis"] = Field(
        default="memory",
        description=(
            "Where run rate limits are counted: memory (one server process) or redis (shared by "
            "every web process using redis_url)."
        ),
    )
    runner_enabled: bool = Field(
        default=True, description="Start the code runner with the server (off: pages only, Run answers 503)."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description=(
            "Log lines of `questlab serve`: text, or json (one object a line: time, level, logger, "
            "message, request_id)."
        ),
    )
    https: bool = Field(default=False, description="Site is served over HTTPS: cookies get the Secure flag.")
    smtp_host: str | None = Field(
        default=None, description="SMTP server for emails; empty prints emails to the log."
    )
    smtp_port: int = Field(default=25, description="SMTP server port.")
    smtp_from: str = Field(default="questlab@localhost", description="Sender address of emails.")
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public URL of the site, used in emailed links."
    )
    session_days: int = Field(
        default=30, ge=1, description="Days a sign-in lasts before the learner signs in again."
    )
    sign_in_attempts_per_account: int = Field(
        default=5, ge=1, description="Failed sign-ins allowed per account within sign_in_window_minutes."
    )
    sign_in_attempts_per_address: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins allowed per client address within sign_in_window_minutes.",
    )
    sign_in_window_minutes: int = Field(
        default=15, ge=1, description="Window over which failed sign-ins are counted for rate limiting."
    )
    reset_link_minutes: int = Field(
        default=60, ge=5, description="Minutes a password reset link stays valid."
    )
    comment_max_chars: int = Field(default=5000, ge=1, description="Longest comment accepted, in characters.")
    comments_per_minute: int = Field(
        default=5, ge=1, description="Comments (and replies) one account may post per minute."
    )
    comments_per_page: int = Field(default=20, ge=1, le=200, description="Comment threads shown per page.")
    reports_per_hour: int = Field(
        default=10, ge=1, description="Problem reports one visitor (account or address) may send per hour."
    )
    email_max_attempts: int = Field(
        default=8,
        ge=1,
        description="Tries to deliver one email (with growing pauses) before it is marked failed.",
    )

    def resolved_database_url(self) -> str:
        """Return the database URL to use: ``database_url`` or the SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'questlab.sqlite3').resolve()}"

    def resolved_secret_key(self) -> str:
        """Return the secret key, creating ``<data_dir>/secret_key`` (mode 600) on first use.

        Raises:
            OSError: when the data folder cannot be created or the key file written.
        """
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            key_file.touch(mode=0o600)
            key_file.write_text(secrets.token_urlsafe(48))
        return key_file.read_text().strip()
