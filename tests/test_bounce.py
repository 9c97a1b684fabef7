"""Bouncing addresses: a permanent 5xx from a real SMTP server (aiosmtpd) marks the account,
a later successful delivery clears it; temporary refusals and refused messages do not."""

from __future__ import annotations

from smtp_helpers import Recorder, smtp_server

from extgw_tui.models import AuditEvent, ExternalUser
from extgw_tui.services import mail, users

U = ExternalUser


class Refusing(Recorder):
    """Also answers DATA with `data_reply` and RCPT for `later` with a temporary 450."""

    def __init__(self, *, data_reply: str = "", later: set[str] | None = None, **kw) -> None:
        super().__init__(**kw)
        self.data_reply = data_reply
        self.later = later or set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.later:
            return "450 4.2.1 Mailbox busy, try later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_reply:
            return self.data_reply
        return await super().handle_DATA(server, session, envelope)


def make_user(email: str) -> ExternalUser:
    return U.create(surname=email.split("@")[0].title(), email=email, password_hash="x")


def bouncing_ids() -> set[int]:
    return {i for (i,) in U.select(U.id).where(mail.bouncing()).tuples()}


def test_a_550_marks_the_address_and_a_later_delivery_clears_it(db, smtp_env):
    gone, fine = make_user("gone@example.org"), make_user("fine@example.org")
    with smtp_server(recorder=Recorder(refuse={"gone@example.org"})) as (_, port):
        smtp_env(port)
        assert mail.send_to_user(fine.id, "Hi", "Text.").status == mail.SENT
        result = mail.send_to_user(gone.id, "Hi", "Text.")
    assert result.status == mail.FAILED and "550" in result.error
    assert bouncing_ids() == {gone.id}
    row = users.user_row(gone.id)
    assert row.bounced_at is not None and users.user_row(fine.id).bounced_at is None
    entry = AuditEvent.select().where(AuditEvent.user_id == gone.id).get()
    assert entry.detail.endswith("the address is marked as bouncing")
    with smtp_server(port) as (server, _):  # the mailbox exists again
        summary = mail.retry_failed()
    assert summary.sent == 1 and [r.rcpt_tos for r in server.received] == [["gone@example.org"]]
    assert bouncing_ids() == set()


def test_temporary_refusals_and_refused_messages_do_not_mark(db, smtp_env):
    busy, spam = make_user("busy@example.org"), make_user("spam@example.org")
    with smtp_server(recorder=Refusing(later={"busy@example.org"})) as (_, port):
        smtp_env(port)
        assert mail.send_to_user(busy.id, "Hi", "Text.").status == mail.FAILED
    with smtp_server(recorder=Refusing(data_reply="554 5.7.1 Message looks like spam")) as (
        _,
        port,
    ):
        smtp_env(port)
        result = mail.send_to_user(spam.id, "Hi", "Text.")
    assert result.status == mail.FAILED and "554" in result.error
    assert bouncing_ids() == set()


def test_a_550_after_the_message_marks_too(db, smtp_env):
    user = make_user("full@example.org")
    with smtp_server(recorder=Refusing(data_reply="550 5.2.1 Mailbox disabled")) as (_, port):
        smtp_env(port)
        assert mail.send_to_user(user.id, "Hi", "Text.").status == mail.FAILED
    assert bouncing_ids() == {user.id}


def test_an_address_changed_since_is_not_marked(db, smtp_env):
    user = make_user("old@example.org")
    with smtp_server(recorder=Recorder(refuse={"old@example.org"})) as (_, port):
        smtp_env(
            port,
        )
        mail.send_to_user(user.id, "Hi", "Text.")
        U.update(bounced_at=None).execute()
        user.email = "new@example.org"
        user.save()
        mail.retry_failed()  # the failed message still goes to the old address
    assert bouncing_ids() == set()
