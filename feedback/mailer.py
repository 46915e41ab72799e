"""Sending a chunk of survey emails, recording each as sent exactly once.

With Django's SMTP backend each message goes through one SMTP transaction, in two phases:

1. ``MAIL FROM``, ``RCPT TO``, ``DATA`` and the whole message, except the final ``.`` line;
2. the caller records the invitation as sent (a committed UPDATE, conditional on still holding
   the claim); only if that succeeds is the final ``.`` written and the reply read.

A chunk sends its messages in groups (``send_group``): each message of a group on a connection
of its own, the group's connections stepping through phase one together, then one commit
recording the whole group, then the dots. The commit, the slow part of a record, is paid once
per group; every message still waits for its own committed record.

An SMTP server takes responsibility for a message only at that final ``.``. So a sender killed
before the record is committed leaves an invitation that was never delivered (it is claimed
again later and sent once), and a sender that lost its claim to another drops the connection
instead of finishing the message. The only moment in which a kill loses a message is between
the COMMIT returning and the group's few bytes of dots being written to the sockets; no moment
duplicates one.

Other backends (console, file, locmem, ESP backends) have no such phases: the invitation is
recorded first, then the message is handed to the backend (at most once, never twice).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass

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


class _Lane:
    """One SMTP connection of a chunk (Django's SMTP backend, opened when first used)."""

    def __init__(self, backend):
        self.backend = backend

    @property
    def smtp(self):
        return self.backend.connection

    def open(self) -> None:
        if self.backend.connection is not None:
            return
        try:
            self.backend.open()
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self.backend.connection = None
            raise TransientSendError(f"cannot connect to the mail server: {exc}"[:480]) from exc
        self.no_delay()

    def no_delay(self) -> None:
        """Send small writes at once. The final ``.`` goes in a write of its own after the message
        (phase two); with Nagle's algorithm it waited for the server's delayed ACK of the message
        (about 10 ms a message, which capped a sender at ~50 messages a second)."""
        sock = getattr(self.backend.connection, "sock", None)
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.backend.close()

    def drop(self) -> None:
        """Close without QUIT (it may be mid-message: the server discards an unfinished message)."""
        smtp = self.backend.connection
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()
        self.backend.connection = None

    def stage(self, message: EmailMessage) -> None:
        """Phase one: ``MAIL FROM``, ``RCPT TO``, ``DATA`` and the message, all but the final dot."""
        for _step in self.staging(message):
            pass

    def staging(self, message: EmailMessage) -> Iterator[None]:
        """Phase one in steps: each step sends a command and yields; the next reads its reply.
        A group advances its connections' steps together, so their round trips overlap (one
        command at a time on each connection: no SMTP pipelining is needed)."""
        self.open()
        smtp = self.smtp
        encoding = message.encoding or "utf-8"
        sender = sanitize_address(message.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in message.recipients()]
        wire_bytes = getattr(message, "wire_bytes", None)  # prepared by the caller (feedback.emails)
        data = wire_bytes() if wire_bytes is not None else message.message().as_bytes(linesep="\r\n")
        data = _LEADING_DOT.sub(b"..", data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        try:
            smtp.ehlo_or_helo_if_needed()
            smtp.putcmd("mail", f"FROM:{smtplib.quoteaddr(sender)}")
            yield
            code, reply = smtp.getreply()
            if code != 250:
                smtp.rset()
                raise TransientSendError(_reply_text(code, reply))  # our sender refused: a setup problem
            accepted = 0
            refusal: tuple[int, bytes] | None = None
            for index, recipient in enumerate(recipients):
                smtp.putcmd("rcpt", f"TO:{smtplib.quoteaddr(recipient)}")
                if index == 0:
                    yield
                code, reply = smtp.getreply()
                if code in (250, 251):
                    accepted += 1
                else:
                    refusal = (code, reply)
            if not accepted:
                smtp.rset()
                assert refusal is not None
                _raise_for(*refusal, bounce=True)
            smtp.putcmd("data")
            yield
            code, reply = smtp.getreply()
            if code != 354:
                smtp.rset()
                _raise_for(code, reply)
            smtp.send(data)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.drop()
            raise TransientSendError(f"connection lost: {exc}"[:480]) from exc

    def hand_over(self) -> None:
        """Phase two, after the record: the dot that hands the message to the server."""
        try:
            self.smtp.send(b".\r\n")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.drop()  # the dot never left: the server discards the message
            raise TransientSendError(f"connection lost before the end of the message: {exc}"[:480]) from exc

    def confirm(self) -> None:
        """The server's reply to the dot: 250, or the reason it refused the message."""
        try:
            code, reply = self.smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.drop()  # the server may have taken it: never send it again
            raise UnconfirmedSendError(f"sent; the server's reply was lost: {exc}"[:480]) from exc
        if code != 250:
            _raise_for(code, reply)


class ChunkConnection:
    """The mail connections of one chunk of messages (``with ChunkConnection() as conn``).

    ``send`` sends one message over the first connection. ``send_group`` sends up to ``lanes``
    messages at once, one per connection, and records them as sent in one commit: every message
    still goes through the two phases (nothing is handed over before its record is committed),
    but the database's commit, the slow part of a record, is paid once per group.
    """

    def __init__(self, backend=None, *, lanes: int = 1):
        self.backend = backend or get_connection(fail_silently=False)
        self.smtp_mode = isinstance(self.backend, SmtpBackend)
        self.lane_count = max(1, lanes) if self.smtp_mode else 1
        self.lanes = [_Lane(self.backend)]

    def __enter__(self) -> ChunkConnection:
        if self.smtp_mode:
            self.lanes[0].open()
        else:
            try:
                self.backend.open()
            except (TimeoutError, smtplib.SMTPException, OSError) as exc:
                raise TransientSendError(f"cannot connect to the mail server: {exc}"[:480]) from exc
        return self

    def __exit__(self, *exc) -> None:
        for lane in self.lanes:
            lane.close()

    def _lane(self, index: int) -> _Lane:
        while len(self.lanes) <= index:
            self.lanes.append(_Lane(get_connection(fail_silently=False)))
        return self.lanes[index]

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
        lane = self.lanes[0]
        lane.stage(message)
        try:
            recorded = record_sent()
        except BaseException:
            lane.drop()  # in DATA mode only closing the connection abandons the message
            raise
        if not recorded:
            lane.drop()
            return False
        lane.hand_over()
        lane.confirm()
        return True

    def send_group(
        self, messages: list[tuple[Hashable, EmailMessage]], record_sent: Callable[[list[Hashable]], set]
    ) -> dict[Hashable, SendOutcome]:
        """Send up to ``lane_count`` messages, keyed by the caller: stage each on its own
        connection, then ``record_sent(keys)`` commits the records of all staged messages at once
        and returns the keys still owned; only those are handed over.

        Returns, per key, a SendOutcome: ``sent`` (delivered and recorded), ``lost`` (the claim
        was taken by another sender: nothing delivered), or ``error`` with ``recorded`` saying
        whether the record already says "sent" (the caller corrects it). An exception from
        ``record_sent`` abandons every staged message and propagates.
        """
        if len(messages) > self.lane_count:
            raise ValueError(f"at most {self.lane_count} messages in a group")
        outcomes: dict[Hashable, SendOutcome] = {}
        if not self.smtp_mode:
            owned = record_sent([key for key, _message in messages])
            for key, message in messages:
                if key in owned:
                    self.backend.send_messages([message])
                    outcomes[key] = SendOutcome(sent=True)
                else:
                    outcomes[key] = SendOutcome(lost=True)
            return outcomes
        staged: list[tuple[Hashable, _Lane]] = []
        steps = [(key, self._lane(index)) for index, (key, _message) in enumerate(messages)]
        active = [
            (key, lane, lane.staging(message))
            for (key, lane), (_key, message) in zip(steps, messages, strict=True)
        ]
        while active:  # every connection's next step, then the next round
            waiting = []
            for key, lane, step in active:
                try:
                    next(step)
                except StopIteration:
                    staged.append((key, lane))
                except (TransientSendError, PermanentSendError) as exc:
                    outcomes[key] = SendOutcome(error=exc)
                else:
                    waiting.append((key, lane, step))
            active = waiting
        if not staged:
            return outcomes
        try:
            owned = record_sent([key for key, _lane in staged])
        except BaseException:
            for _key, lane in staged:
                lane.drop()
            raise
        handed: list[tuple[Hashable, _Lane]] = []
        for key, lane in staged:  # the dots go together, right after the commit
            if key not in owned:
                lane.drop()
                outcomes[key] = SendOutcome(lost=True)
                continue
            try:
                lane.hand_over()
            except TransientSendError as exc:
                outcomes[key] = SendOutcome(error=exc, recorded=True)
            else:
                handed.append((key, lane))
        for key, lane in handed:
            try:
                lane.confirm()
            except (TransientSendError, PermanentSendError, UnconfirmedSendError) as exc:
                outcomes[key] = SendOutcome(error=exc, recorded=True)
            else:
                outcomes[key] = SendOutcome(sent=True)
        return outcomes


@dataclass(frozen=True)
class SendOutcome:
    sent: bool = False
    lost: bool = False
    error: Exception | None = None
    recorded: bool = False  # with an error: the invitation was already recorded as sent
