"""The Outbox screen (M on the main screen), driven by keys at 80x24 over a real database and a
real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import datetime, timedelta

from app_helpers import messages, settle
from smtp_helpers import smtp_server
from textual.widgets import Select

from extgw_tui.app import ExtgwApp
from extgw_tui.models import AuditEvent, ExternalUser, OutboxMessage
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.outbox import OutboxScreen
from extgw_tui.screens.outbox_message import OutboxMessageModal
from extgw_tui.services import mail

T0 = datetime(2026, 3, 1, 9, 0, 0)
#: status of message n (oldest first): 150 messages, so the list needs paging.
STATUSES = [mail.SENT, mail.FAILED, mail.QUEUED, mail.PENDING, mail.DISCARDED]


def _seed(count: int = 150) -> ExternalUser:
    user = ExternalUser.create(
        title="Mrs", forename="Ann", surname="Jones", email="parent@example.org", password_hash="x"
    )
    for n in range(count):
        OutboxMessage.create(
            created_at=T0 + timedelta(minutes=n),
            admin="alice",
            user=user,
            to_addr=f"p{n}@example.org",
            subject=f"Subject {n}",
            body=f"Body of message {n}\nsecond line",
            status=STATUSES[n % 5],
            error="550 no such mailbox" if STATUSES[n % 5] == mail.FAILED else "",
            attempts=1,
        )
    return user


async def _open(pilot, app) -> OutboxScreen:
    await settle(pilot, app, typed=False)
    await pilot.press("M")
    await settle(pilot, app, typed=False)
    assert isinstance(app.screen, OutboxScreen)
    return app.screen


async def test_m_lists_every_message_newest_first_paged_and_filtered(sqlite_db) -> None:
    _seed()
    app = ExtgwApp(sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        table = screen.query_one("#outbox-table")
        assert table.total == 150
        assert table.current_row.subject == "Subject 149"  # newest first
        await pilot.press("G")
        await settle(pilot, app, typed=False)
        assert table.current_row.subject == "Subject 0"  # paged to the oldest
        counts = str(screen.query_one("#outbox-counts").render())
        assert "30 failed" in counts and "30 pending" in counts
        screen.query_one("#outbox-status", Select).value = mail.FAILED
        await settle(pilot, app, typed=False)
        assert table.total == 30
        assert {row.status for row in table.rows_held} == {mail.FAILED}
        await pilot.press("g", "enter")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, OutboxMessageModal)
        text = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "Body of message 146" in text and "550 no such mailbox" in text
        await pilot.press("escape", "escape")
        await settle(pilot, app, typed=False)
        assert not isinstance(app.screen, OutboxScreen)


async def test_retry_sends_the_marked_failed_messages_through_the_mail_server(
    sqlite_db, smtp_env
) -> None:
    _seed(10)
    app = ExtgwApp(sqlite_db.url)
    with smtp_server() as (server, port):
        smtp_env(port)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _open(pilot, app)
            screen.query_one("#outbox-status", Select).value = mail.FAILED
            await settle(pilot, app, typed=False)
            await pilot.press("space")  # mark the newest failed one (message 6)
            await pilot.press("R")
            await settle(pilot, app, typed=False)
            for _ in range(50):
                if not screen.retrying:
                    break
                await pilot.pause(0.1)
            await settle(pilot, app, typed=False)
            assert any("1 sent" in m for m in messages(app)), messages(app)
    assert [r.rcpt_tos for r in server.received] == [["p6@example.org"]]
    assert server.received[0].message["From"] == "School Office <office@school.example>"
    assert OutboxMessage.get(OutboxMessage.to_addr == "p6@example.org").status == mail.SENT
    assert OutboxMessage.get(OutboxMessage.to_addr == "p1@example.org").status == mail.FAILED


async def test_discard_asks_then_discards_and_audits(sqlite_db) -> None:
    _seed(10)
    app = ExtgwApp(sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        table = screen.query_one("#outbox-table")
        assert table.current_row.status == mail.DISCARDED  # message 9; 8 pending, 7 queued...
        await pilot.press("space", "down", "space", "down", "space", "down", "space")  # 9-6
        assert len(table.marks) == 4
        await pilot.press("X")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot, app, typed=False)
        assert any("Discarded 2 message(s)" in m for m in messages(app)), messages(app)
    statuses = dict(OutboxMessage.select(OutboxMessage.to_addr, OutboxMessage.status).tuples())
    assert statuses["p7@example.org"] == statuses["p6@example.org"] == mail.DISCARDED
    assert statuses["p5@example.org"] == mail.SENT and statuses["p8@example.org"] == mail.PENDING
    audited = AuditEvent.select().where(AuditEvent.action == "email.discard")
    assert sorted(e.target for e in audited) == ["p6@example.org", "p7@example.org"]


def test_outbox_page_and_count_by_status(db) -> None:
    _seed(20)
    assert mail.outbox_count(None) == 20 and mail.outbox_count(mail.FAILED) == 4
    page = mail.outbox_page(mail.FAILED, 1, 2)
    assert [row.subject for row in page] == ["Subject 11", "Subject 6"]
