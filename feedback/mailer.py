"""Sending a chunk of survey emails over one connection, recording each as sent exactly once.

With Django's SMTP backend each message goes through one SMTP transaction on the chunk's
connection, in two phases:

1. ``MAIL FROM``, ``RCPT TO``, ``DATA`` and the whole message, except the final ``.`` line;
2. the caller records the invitation as sent (its own committed UPDATE, conditional on still
   holding the claim); only if that succeeds is the final ``.`` written and the reply read.

An SMTP server takes responsibility for a message only at that final ``.``. So a sender killed
before the record is committed leaves an invitation that was never delivered (it is claimed
again later and sent once), and a sender that lost its claim to another drops the connection
instead of finishing the message. The only moment in which a kill loses a message is between
the COMMIT returning and three bytes being written to the socket; no moment duplicates one.

Other backends (console, file, locmem, ESP backends) have no such phases: the invitation is
recorded first, then the message is handed to the backend (at most once, never twice).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
from collections.abc import Callable

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address

_LEADING_DOT = re.compile(rb"(?m)^\.")


class TransientSendError(Exception):
    """Try again later: the server is unreachable or answered 4xx."""


class UnconfirmedSendError(Exception):
    """The whole message went but the server's reply was lost: it stays recorded as sent."""


class PermanentSendError(Exception):
    """This message will never go: the server refused the recipient or the content with 5xx."""

    def __init__(self, message: str, *, bounce: bool = False):
        super().__init__(message)
        self.bounce = bounce  # the address itself was refused: suppress it


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}"[:480]


def _raise_for(code: int, reply: bytes | str, *, bounce: bool = False) -> None:
    if 400 <= code < 500 or code < 200:
        raise TransientSendError(_reply_text(code, reply))
    raise PermanentSendError(_reply_text(code, reply), bounce=bounce)


class ChunkConnection:
    """One mail connection for a chunk of messages (``with ChunkConnection() as conn``)."""

    def __init__(self, backend=None):
        self.backend = backend or get_connection(fail_silently=False)
        self.smtp_mode = isinstance(self.backend, SmtpBackend)

    def __enter__(self) -> ChunkConnection:
        self._open()
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.backend.close()

    def _open(self) -> None:
        try:
            self.backend.open()
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TransientSendError(f"cannot connect to the mail server: {exc}"[:480]) from exc
        self._no_delay()

    def _no_delay(self) -> None:
        """Send small writes at once. The final ``.`` goes in a write of its own after the message
        (phase two); with Nagle's algorithm it waited for the server's delayed ACK of the message
        (about 10 ms a message, which capped a sender at ~50 messages a second)."""
        sock = getattr(getattr(self.backend, "connection", None), "sock", None)
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _reconnect(self) -> None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.backend.close()
        self.backend.connection = None
        self._open()

    def send(self, message: EmailMessage, record_sent: Callable[[], bool]) -> bool:
        """Send one message; ``record_sent()`` commits the record and says whether we still own it.

        Returns True when the message went (and was recorded), False when the claim was lost
        (nothing was delivered). Raises TransientSendError or PermanentSendError otherwise; in
        both cases nothing was delivered, but the record may already say "sent" (the final
        reply refused the message): the caller corrects it.
        """
        if not self.smtp_mode:
            if not record_sent():
                return False
            self.backend.send_messages([message])
            return True
        return self._send_smtp(message, record_sent)

    def _send_smtp(self, message: EmailMessage, record_sent: Callable[[], bool]) -> bool:
        smtp = self.backend.connection
        if smtp is None:
            self._open()
            smtp = self.backend.connection
        encoding = message.encoding or "utf-8"
        sender = sanitize_address(message.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in message.recipients()]
        data = message.message().as_bytes(linesep="\r\n")
        data = _LEADING_DOT.sub(b"..", data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        try:
            smtp.ehlo_or_helo_if_needed()
            code, reply = smtp.mail(sender)
            if code != 250:
                smtp.rset()
                raise TransientSendError(_reply_text(code, reply))  # our sender refused: a setup problem
            accepted = 0
            refusal: tuple[int, bytes] | None = None
            for recipient in recipients:
                code, reply = smtp.rcpt(recipient)
                if code in (250, 251):
                    accepted += 1
                else:
                    refusal = (code, reply)
            if not accepted:
                smtp.rset()
                assert refusal is not None
                _raise_for(*refusal, bounce=True)
            code, reply = smtp.docmd("data")
            if code != 354:
                smtp.rset()
                _raise_for(code, reply)
            smtp.send(data)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TransientSendError(f"connection lost: {exc}"[:480]) from exc
        # Phase two: the record first, then the dot that hands the message over.
        try:
            recorded = record_sent()
        except BaseException:
            self._drop()  # in DATA mode only closing the connection abandons the message
            raise
        if not recorded:
            self._drop()
            return False
        try:
            smtp.send(b".\r\n")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()  # the dot never left: the server discards the message
            raise TransientSendError(f"connection lost before the end of the message: {exc}"[:480]) from exc
        try:
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()  # the server may have taken it: never send it again
            raise UnconfirmedSendError(f"sent; the server's reply was lost: {exc}"[:480]) from exc
        if code != 250:
            _raise_for(code, reply)
        return True

    def _drop(self) -> None:
        """Close the connection without QUIT (it may be mid-message); the next send reopens."""
        smtp = self.backend.connection
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()
        self.backend.connection = None
