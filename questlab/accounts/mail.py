"""Sending email: through the SMTP server in settings, or to the log when none is set (local mode)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from questlab.settings import Settings

log = logging.getLogger("questlab.mail")


def send_email(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send a plain-text email to ``to``.

    Without ``settings.smtp_host`` the whole message is written to the ``questlab.mail`` log instead,
    so a local single-user install can read its reset links in the terminal.

    Raises:
        OSError, smtplib.SMTPException: the SMTP server could not be reached or refused the message.
    """
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not settings.smtp_host:
        log.warning("email (no SMTP server set, printed instead) to %s: %s\n%s", to, subject, body)
        return
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)
