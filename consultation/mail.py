"""Sending one email: over SMTP when MAIL_SERVER is set, otherwise as an .eml file under MAIL_DIR."""
from __future__ import annotations

import smtplib
import tempfile
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app


def build(recipient: str, subject: str, body: str, message_id_key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = recipient
    message["Subject"] = subject
    # A stable Message-ID per notification: a mail sent twice is recognisably the same mail.
    message["Message-ID"] = make_msgid(idstring=message_id_key.replace(":", ".")[:60], domain="huacheng.gov.cn")
    message.set_content(body)
    return message


def deliver(message: EmailMessage) -> str:
    """Send the message; return how it went out (for the record)."""
    config = current_app.config
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config.get("MAIL_USE_STARTTLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
        return f"smtp {config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    folder = Path(config["MAIL_DIR"])
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # personal data: owner-only, like the .eml files
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    with tempfile.NamedTemporaryFile("wb", dir=folder, prefix=f"{stamp}-", suffix=".eml", delete=False) as fh:
        fh.write(bytes(message))
    return fh.name
