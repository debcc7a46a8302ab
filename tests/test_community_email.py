"""Reply emails through a real local SMTP server (aiosmtpd): delivery, unsubscribe, retry, never blocking."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select

from questlab.community.mail import Mailer
from questlab.db import Database
from questlab.db.models import OutboxEmail
from questlab.settings import Settings
from tests.community_helpers import LESSON_API, client_for, member

pytestmark = pytest.mark.anyio


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every message; ``delay`` seconds of slowness per message."""

    def __init__(self, delay: float = 0.0):
        self.messages: list[Message] = []
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class SMTPServer:
    def __init__(self, port: int, inbox: Inbox):
        self.controller = Controller(inbox, hostname="127.0.0.1", port=port)
        self.inbox = inbox

    def __enter__(self) -> Inbox:
        self.controller.start()
        return self.inbox

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[Inbox]:
    with SMTPServer(smtp_port, Inbox()) as inbox:
        yield inbox


@pytest.fixture
async def app(settings: Settings, database_url: str, smtp_port: int) -> AsyncIterator[FastAPI]:
    from questlab.web.app import create_app

    db = Database(database_url)
    application = create_app(
        settings.model_copy(
            update={
                "database_url": database_url,
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port,
                "smtp_from": "questlab@example.test",
                "base_url": "https://questlab.example",
            }
        ),
        database=db,
    )
    application.state.mailer.poll_seconds = 0.2
    async with application.router.lifespan_context(application):
        yield application
    db.dispose()


async def wait_for(condition, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_opted_in_subscriber_gets_an_email_with_a_working_unsubscribe_link(app: FastAPI, smtp: Inbox):
    async with member(app, "ana") as ana, member(app, "ben") as ben, member(app, "cy") as cy:
        await ana.put("/api/notifications/email", {"enabled": True})
        await ana.put(LESSON_API + "subscription")
        await cy.put(LESSON_API + "subscription")  # bell on, but no email opt-in
        comment_id = await ben.comment("Is **this** right?")
        await wait_for(lambda: len(smtp.messages) == 1)
        (message,) = smtp.messages
        assert message["To"] == "ana@example.com" and message["From"] == "questlab@example.test"
        assert "New reply" in message["Subject"] and "첫 레슨" in message["Subject"]  # the writer's locale
        body = message.get_content()
        assert f"https://questlab.example/quests/test/basics/first/#comment-{comment_id}" in body
        assert "Is **this** right?" in body
        link = str(message["List-Unsubscribe"]).strip().strip("<>")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and link in body
        async with client_for(app) as mail_program:
            assert (await mail_program.get(link.replace("https://questlab.example", ""))).status_code == 200
        assert (await ana.http.get("/api/notifications")).json()["email"] is False
        await ben.comment("another one")
        await asyncio.sleep(1.0)
        assert len(smtp.messages) == 1  # unsubscribed: no more emails
        assert (await ana.http.get("/api/notifications")).json()["unread"] == 2  # in-app still works


async def test_sending_never_blocks_the_request(app: FastAPI, smtp_port: int):
    with SMTPServer(smtp_port, Inbox(delay=3.0)) as inbox:
        async with member(app, "ana") as ana, member(app, "ben") as ben:
            await ana.put("/api/notifications/email", {"enabled": True})
            await ana.put(LESSON_API + "subscription")
            started = time.monotonic()
            await ben.comment("slow mail server")
            assert time.monotonic() - started < 2.5
            await wait_for(lambda: len(inbox.messages) == 1)


async def test_failed_sends_are_retried_not_lost(settings: Settings, database_url: str, smtp_port: int):
    db = Database(database_url)
    mail_settings = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "email_max_attempts": 3}
    )
    with db.session() as session:
        session.add(OutboxEmail(to_address="ana@example.com", subject="hello", body="text"))
    mailer = Mailer(db, mail_settings, first_pause=timedelta(0))
    assert mailer.send_due() == 1  # nobody listens on the port: the send fails
    with db.session() as session:
        email = session.scalars(select(OutboxEmail)).one()
        assert email.sent_at is None and email.attempts == 1 and "Error" in (email.last_error or "")
    with SMTPServer(smtp_port, Inbox()) as inbox:
        assert mailer.send_due() == 1
        assert len(inbox.messages) == 1 and inbox.messages[0]["Subject"] == "hello"
        assert mailer.send_due() == 0  # sent once, never again
    with db.session() as session:
        email = session.scalars(select(OutboxEmail)).one()
        assert email.sent_at is not None and email.attempts == 2 and email.last_error is None
    db.dispose()


async def test_a_send_that_keeps_failing_stays_in_the_outbox(settings: Settings, database_url: str):
    db = Database(database_url)
    mail_settings = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": free_port(), "email_max_attempts": 2}
    )
    with db.session() as session:
        session.add(OutboxEmail(to_address="ana@example.com", subject="hello", body="text"))
    mailer = Mailer(db, mail_settings, first_pause=timedelta(hours=1))
    assert mailer.send_due() == 1
    assert mailer.send_due() == 0  # waits for its pause before the next try
    with db.session() as session:
        email = session.scalars(select(OutboxEmail)).one()
        email.next_attempt_at = email.created_at
    assert mailer.send_due() == 1
    assert mailer.send_due() == 0  # tries used up: kept, with the error, for the operator
    with db.session() as session:
        email = session.scalars(select(OutboxEmail)).one()
        assert email.attempts == 2 and email.sent_at is None and email.last_error
    db.dispose()
