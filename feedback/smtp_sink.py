"""A local SMTP sink (aiosmtpd) for tests, the fault drill and the benchmark: it accepts every
message on 127.0.0.1 and keeps what arrived, so a test can count each message exactly.

In a test::

    with SmtpSink() as sink:           # a thread; sink.port is free
        ...send to 127.0.0.1:sink.port...
        sink.wait_for(100)
        assert sink.count_by_recipient() == {...}

As a process (the benchmark)::

    python -m feedback.smtp_sink --port 2525 --stats /tmp/sink.json

writes {"messages": n, "unique_ids": n, "duplicates": n} to the stats file twice a second.

aiosmtpd is a development dependency (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
import time
from collections import Counter
from email.parser import BytesHeaderParser
from pathlib import Path

from cs_app.benchserver import free_port


class Handler:
    """Keeps each accepted message's recipients, Message-ID and headers (not the bodies, unless asked)."""

    def __init__(self, *, keep_bodies: bool = True):
        self.keep_bodies = keep_bodies
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        self.refuse: dict[str, str] = {}  # address -> SMTP reply to RCPT (e.g. "550 no such user")
        self.refuse_data: str | None = None  # a reply to the end of DATA instead of 250
        # A greeting that refuses every new connection (e.g. "421 4.3.2 try again later"): the
        # server is up but turns clients away; each refused connection's time is kept.
        self.refuse_connections: str | None = None
        self.refused_at: list[float] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        data = envelope.content if isinstance(envelope.content, bytes) else envelope.original_content
        headers = BytesHeaderParser().parsebytes(data)
        record = {
            "to": list(envelope.rcpt_tos),
            "message_id": headers.get("Message-ID", ""),
            "subject": headers.get("Subject", ""),
            "headers": dict(headers.items()),
        }
        if self.keep_bodies:
            record["data"] = data
        with self.lock:
            self.messages.append(record)
        return "250 Message accepted"

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.messages)


def _smtp_class():
    from aiosmtpd.smtp import SMTP

    class RefusingSMTP(SMTP):
        """aiosmtpd's server, greeting with the handler's refusal (then hanging up) when set."""

        async def _handle_client(self) -> None:
            reply = getattr(self.event_handler, "refuse_connections", None)
            if reply:
                with self.event_handler.lock:
                    self.event_handler.refused_at.append(time.monotonic())
                await self.push(reply)
                if self.transport is not None:
                    self.transport.close()
                return
            await super()._handle_client()

    return RefusingSMTP


class SmtpSink:
    """An SMTP server on 127.0.0.1 in a background thread."""

    def __init__(self, *, port: int | None = None, keep_bodies: bool = True):
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
        self.port = port or free_port()
        self.handler = Handler(keep_bodies=keep_bodies)
        smtp_class = _smtp_class()

        class _Controller(Controller):
            def factory(self):
                return smtp_class(self.handler, **self.SMTP_kwargs)

        self.controller = _Controller(
            self.handler, hostname="127.0.0.1", port=self.port, data_size_limit=10 * 1024 * 1024
        )

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[dict]:
        return self.handler.snapshot()

    def count_by_recipient(self) -> Counter:
        return Counter(address.lower() for message in self.messages for address in message["to"])

    def count_by_message_id(self) -> Counter:
        return Counter(message["message_id"] for message in self.messages)

    def wait_for(self, count: int, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.handler.messages) >= count:
                return len(self.handler.messages)
            time.sleep(0.05)
        return len(self.handler.messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stats", type=Path, required=True)
    args = parser.parse_args()
    sink = SmtpSink(port=args.port, keep_bodies=False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def write() -> None:
        messages = sink.messages
        ids = Counter(m["message_id"] for m in messages)
        stats = {
            "messages": len(messages),
            "unique_ids": len(ids),
            "duplicates": sum(n - 1 for n in ids.values() if n > 1),
            "time": time.time(),
        }
        tmp = args.stats.with_suffix(".tmp")
        tmp.write_text(json.dumps(stats))
        tmp.replace(args.stats)

    with sink:
        write()
        while not stop.wait(0.5):
            write()
        write()


if __name__ == "__main__":
    main()
