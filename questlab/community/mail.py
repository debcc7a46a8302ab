"""Sending queued emails: a background thread that drains the ``email_outbox`` table.

A request that causes an email only adds a row to the outbox (in its own
transaction) and wakes the sender; it never waits for SMTP. The sender tries
each due email; a failure is recorded (``attempts``, ``last_error``) and tried
again later with a doubling pause (30 s, 1 min, 2 min, ... at most 1 h) up to
``email_max_attempts`` tries. Rows are never deleted, so nothing is lost: a
server restart picks up where the last one stopped. Without ``smtp_host`` the
emails are written to the log and marked sent.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select

from questlab.db import Database
from questlab.db.models import OutboxEmail, utcnow
from questlab.settings import Settings

log = logging.getLogger("questlab.mail")
MAX_PAUSE = timedelta(hours=1)


class Mailer:
    """The outbox sender.

    Args:
        db: the application's database.
        settings: SMTP settings (``smtp_host``, ``smtp_port``, ``smtp_from``) and ``email_max_attempts``.
        poll_seconds: how often the thread looks for due emails when nobody wakes it.
        first_pause: pause after the first failed try; it doubles with each further failure.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        poll_seconds: float = 5.0,
        first_pause: timedelta = timedelta(seconds=30),
    ):
        self.db = db
        self.settings = settings
        self.poll_seconds = poll_seconds
        self.first_pause = first_pause
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="questlab-mailer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after the email it is sending, if any."""
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Ask the thread to look at the outbox now (cheap; never blocks)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                while self.send_due() and not self._stop.is_set():
                    pass
            except Exception:  # noqa: BLE001 - the sender must survive a database hiccup; it retries next round
                log.exception("mail: sending the outbox failed; will try again")

    def send_due(self, batch: int = 20) -> int:
        """Try every email that is due now, at most ``batch``; return how many were tried."""
        with self._lock, self.db.session() as session:
            query = (
                select(OutboxEmail)
                .where(
                    OutboxEmail.sent_at.is_(None),
                    OutboxEmail.next_attempt_at <= utcnow(),
                    OutboxEmail.attempts < self.settings.email_max_attempts,
                )
                .order_by(OutboxEmail.id)
                .limit(batch)
            )
            if self.db.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)  # several servers may share one outbox
            emails = list(session.scalars(query))
            for email in emails:
                try:
                    self._deliver(email)
                except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
                    email.attempts += 1
                    email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    email.next_attempt_at = utcnow() + min(
                        self.first_pause * 2 ** (email.attempts - 1), MAX_PAUSE
                    )
                    level = (
                        logging.ERROR
                        if email.attempts >= self.settings.email_max_attempts
                        else logging.WARNING
                    )
                    log.log(
                        level,
                        "mail: sending email %d to %s failed (try %d of %d): %s",
                        email.id,
                        email.to_address,
                        email.attempts,
                        self.settings.email_max_attempts,
                        email.last_error,
                    )
                else:
                    email.attempts += 1
                    email.sent_at = utcnow()
                    email.last_error = None
            return len(emails)

    def _deliver(self, email: OutboxEmail) -> None:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = email.to_address
        message["Subject"] = email.subject
        for name, value in json.loads(email.headers_json or "{}").items():
            message[name] = value
        message.set_content(email.body)
        if not self.settings.smtp_host:
            log.info("mail (no QUESTLAB_SMTP_HOST set, not sent):\n%s", message.as_string())
            return
        with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=15) as smtp:
            smtp.send_message(message)
