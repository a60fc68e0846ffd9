"""An e-mail backend for reliability tests: each message becomes a file in
``$TEST_EMAIL_DIR`` named after its Message-ID plus a unique suffix, written only after
``$TEST_EMAIL_DELAY`` seconds — a slow SMTP server a test can kill a worker in front of.
Counting files per Message-ID tells how many times each e-mail really went out."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(os.environ["TEST_EMAIL_DIR"])
        delay = float(os.environ.get("TEST_EMAIL_DELAY", "0"))
        sent = 0
        for message in email_messages:
            message_id = message.extra_headers.get("Message-ID", "none").strip("<>").replace("/", "_")
            marker = folder / f"{message_id}.{uuid.uuid4().hex}.sending"
            marker.touch()  # a send in progress: what a test kills a worker in the middle of
            time.sleep(delay)
            (folder / f"{message_id}.{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
            marker.unlink()
            sent += 1
        return sent


def sent_ids(folder: Path) -> list[str]:
    return sorted(p.name.rsplit(".", 2)[0] for p in folder.glob("*.eml"))


def sending(folder: Path) -> bool:
    """True while a message is being sent (between the start of a send and its delivery)."""
    return any(folder.glob("*.sending"))
