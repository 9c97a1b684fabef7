"""The Email modal, driven by keyboard only, sending to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import pytest
from app_helpers import settle
from host_app import UNSET, HostApp
from smtp_helpers import Recorder, smtp_server
from textual import events
from textual.app import App
from textual.widgets import Button, Input, Static, TextArea

from extgw_tui import cli
from extgw_tui.models import AuditEvent, ExternalUser, OutboxMessage
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.email_user import EmailUserModal
from extgw_tui.screens.help import screen_actions
from extgw_tui.services import mail


@pytest.fixture
def user_id(db) -> int:
    return ExternalUser.create(
        title="Mr", forename="Tom", surname="Evans", email="tom@example.org", password_hash="x"
    ).id


async def type_text(pilot, text: str) -> None:
    keys = {" ": "space", "\n": "enter", ".": "full_stop", ",": "comma"}
    await pilot.press(*(keys.get(ch, ch) for ch in text))


def status(app: App) -> str:
    return str(app.screen.query_one("#email-status", Static).render())


def down_port() -> int:
    """A port nothing listens on (until a test starts a server there)."""
    with smtp_server() as (_, port):
        pass
    return port


async def fail_once(app: App, pilot) -> None:
    """Write "Trip" / "Bring a coat." and send it to a server that is down."""
    await settle(pilot, app, typed=False)
    await type_text(pilot, "Trip")
    await pilot.press("tab")
    await type_text(pilot, "Bring a coat.")
    await pilot.press("ctrl+s")
    await settle(pilot, app, typed=False)
    assert "Not sent to tom@example.org" in status(app)


async def test_sends_from_keyboard_input_and_shows_the_outcome(user_id, smtp_env) -> None:
    with smtp_server() as (server, port):
        smtp_env(port)
        app = HostApp(lambda: EmailUserModal(user_id), styled=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app, typed=False)
            to_line = str(app.screen.query_one("#email-to", Static).render())
            assert "tom@example.org" in to_line and "Mr Tom Evans" in to_line
            await type_text(pilot, "Sports day")
            await pilot.press("tab")
            assert isinstance(app.focused, TextArea)
            await type_text(pilot, "Dear Mr Evans,\nSports day is on Friday.")
            await pilot.press("tab")
            assert isinstance(app.focused, Button) and app.focused.id == "send"
            await pilot.press("enter")
            await settle(pilot, app, typed=False)
            assert status(app) == "Sent to tom@example.org."
            assert app.focused is not None and app.focused.id == "cancel"
            await pilot.press("escape")
            await pilot.pause()
            assert app.result is True
    assert len(server.received) == 1
    got = server.received[0]
    assert got.rcpt_tos == ["tom@example.org"]
    assert got.message["Subject"] == "Sports day"
    body = got.message.get_content().replace("\r\n", "\n")
    assert body == "Dear Mr Evans,\nSports day is on Friday.\n"
    assert AuditEvent.get(AuditEvent.action == "email.send").outcome == "sent"


async def test_failed_send_keeps_the_text_and_retry_delivers_once(user_id, smtp_env) -> None:
    with smtp_server() as (_, port):
        pass  # nothing listens on this port until the second server starts
    smtp_env(port)
    app = HostApp(lambda: EmailUserModal(user_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await type_text(pilot, "Trip")
        await pilot.press("tab")
        await type_text(pilot, "Bring a coat.")
        await pilot.press("ctrl+s")
        await settle(pilot, app, typed=False)
        assert "Not sent to tom@example.org" in status(app)
        assert "cannot be reached" in status(app) and "Retry" in status(app)
        assert app.screen.query_one("#email-subject", Input).value == "Trip"
        assert app.screen.query_one("#email-body", TextArea).text == "Bring a coat."
        send = app.screen.query_one("#send", Button)
        assert str(send.label).startswith("Retry") and app.focused is send
        with smtp_server(port) as (server, _):
            await pilot.press("enter")
            await settle(pilot, app, typed=False)
        assert status(app) == "Sent to tom@example.org."
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is True
    assert [r.message["Subject"] for r in server.received] == ["Trip"]
    (row,) = OutboxMessage.select()
    assert (row.status, row.attempts) == ("sent", 2)


async def test_validation_is_inline_and_nothing_is_sent(user_id, smtp_env) -> None:
    with smtp_server() as (server, port):
        smtp_env(port)
        app = HostApp(lambda: EmailUserModal(user_id), styled=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app, typed=False)
            await pilot.press("ctrl+s")
            await settle(pilot, app, typed=False)
            assert status(app) == "Enter a subject."
            assert app.focused is app.screen.query_one("#email-subject", Input)
            await type_text(pilot, "Hello")
            await pilot.press("enter")  # enter in the subject line sends: the body is empty
            await settle(pilot, app, typed=False)
            assert status(app) == "Enter the message text."
            assert isinstance(app.focused, TextArea)
    assert server.received == [] and OutboxMessage.select().count() == 0


async def test_no_server_queues_in_the_local_outbox_and_says_where(user_id) -> None:
    app = HostApp(lambda: EmailUserModal(user_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await type_text(pilot, "Welcome")
        await pilot.press("tab")
        await type_text(pilot, "Hello.")
        await pilot.press("ctrl+s")
        await settle(pilot, app, typed=False)
        row = OutboxMessage.get()
        assert row.status == "queued" and row.eml_path
        assert "local outbox" in status(app) and row.eml_path in status(app)


async def test_escape_asks_before_discarding_typed_text(user_id) -> None:
    app = HostApp(lambda: EmailUserModal(user_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await type_text(pilot, "Draft")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, EmailUserModal) and app.result is UNSET
        assert app.screen.query_one("#email-subject", Input).value == "Draft"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.result is False
    assert OutboxMessage.select().count() == 0


async def test_escape_with_nothing_typed_closes_at_once(user_id) -> None:
    app = HostApp(lambda: EmailUserModal(user_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is False


async def test_mouse_can_send(user_id, smtp_env) -> None:
    with smtp_server() as (server, port):
        smtp_env(port)
        app = HostApp(lambda: EmailUserModal(user_id), styled=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app, typed=False)
            app.screen.query_one("#email-subject", Input).value = "Clicked"
            app.screen.query_one("#email-body", TextArea).text = "By mouse."
            assert await pilot.click("#send")
            await settle(pilot, app, typed=False)
            assert status(app) == "Sent to tom@example.org."
            assert await pilot.click("#cancel")
            await pilot.pause()
            assert app.result is True
    assert len(server.received) == 1


async def test_fits_80x24_even_with_a_long_outcome(user_id) -> None:
    app = HostApp(lambda: EmailUserModal(user_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await type_text(pilot, "Welcome")
        await pilot.press("tab")
        await type_text(pilot, "Hello.")
        await pilot.press("ctrl+s")
        await settle(pilot, app, typed=False)
        screen = app.screen.region
        close = app.screen.query_one("#cancel", Button)
        status_widget = app.screen.query_one("#email-status", Static)
        assert status_widget.region.height >= 2  # the outbox path wraps onto a second line
        assert screen.contains_region(close.region) and close.region.height > 0


async def test_discarding_a_failed_message_means_no_retry_sends_it(
    db_url, user_id, smtp_env, capsys
) -> None:
    port = down_port()
    smtp_env(port)
    app = HostApp(lambda: EmailUserModal(user_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await fail_once(app, pilot)
        assert "failed email to tom@example.org" in app.screen.unsaved_work()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "It was not sent, and no retry will send it" in app.screen.question
        await pilot.press("y")
        await settle(pilot, app, typed=False)
        assert app.result is False
    (row,) = OutboxMessage.select()
    assert row.status == "discarded"
    assert AuditEvent.select().where(AuditEvent.action == "email.discard").count() == 1
    with smtp_server(port) as (server, _):
        assert cli.main(["outbox", "--db", db_url, "--retry"]) == 0
    assert "Nothing to retry." in capsys.readouterr().out
    assert server.received == []
    assert cli.main(["outbox", "--db", db_url]) == 0
    assert " discarded " in capsys.readouterr().out


async def test_retry_after_another_admins_retry_shows_it_sent(user_id, smtp_env) -> None:
    port = down_port()
    smtp_env(port)
    app = HostApp(lambda: EmailUserModal(user_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await fail_once(app, pilot)
        with smtp_server(port) as (server, _):
            assert mail.retry_failed().sent == 1  # `outbox --retry` in another terminal
            await pilot.press("ctrl+s")  # the modal's Retry
            await settle(pilot, app, typed=False)
        assert status(app) == "Already sent to tom@example.org by another retry."
        assert not app.screen.query_one("#send", Button).display
        assert app.focused is app.screen.query_one("#cancel", Button)
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is True
    assert len(server.received) == 1


async def test_a_multi_line_paste_into_the_subject_says_what_it_kept(user_id) -> None:
    app = HostApp(lambda: EmailUserModal(user_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        subject = app.screen.query_one("#email-subject", Input)
        app.post_message(events.Paste("Sports day\nis on Friday"))
        await pilot.pause()
        assert subject.value == "Sports day"
        assert status(app) == (
            "Only the first line of the pasted text was kept: a subject is one line."
        )
        await type_text(pilot, "!")
        assert status(app) == ""


async def test_a_too_long_paste_stays_whole_and_sending_says_how_long(user_id) -> None:
    app = HostApp(lambda: EmailUserModal(user_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        app.post_message(events.Paste("x" * 300))
        await pilot.pause()
        assert len(app.screen.query_one("#email-subject", Input).value) == 300
        assert status(app) == ""
        await pilot.press("tab")
        await type_text(pilot, "Body.")
        await pilot.press("ctrl+s")
        await settle(pilot, app, typed=False)
        assert status(app) == "The subject is too long (300 characters; at most 250)."
        assert app.focused is app.screen.query_one("#email-subject", Input)
    assert OutboxMessage.select().count() == 0


async def test_a_validation_message_goes_once_the_text_changes(user_id) -> None:
    app = HostApp(lambda: EmailUserModal(user_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("ctrl+s")
        await settle(pilot, app, typed=False)
        assert status(app) == "Enter a subject."
        await type_text(pilot, "Hello")
        assert status(app) == ""
        await pilot.press("ctrl+s")
        await settle(pilot, app, typed=False)
        assert status(app) == "Enter the message text."
        await type_text(pilot, "Hi")  # the focus moved to the message box
        assert status(app) == ""


async def test_while_sending_it_says_how_long_it_may_take(user_id, smtp_env) -> None:
    with smtp_server(recorder=Recorder(delay=0.4)) as (server, port):
        smtp_env(port)  # EXTGW_SMTP_TIMEOUT=5
        app = HostApp(lambda: EmailUserModal(user_id), styled=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app, typed=False)
            await type_text(pilot, "Slow")
            await pilot.press("tab")
            await type_text(pilot, "Server.")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert status(app) == "Sending to tom@example.org… This takes at most 5 seconds."
            await pilot.press("escape")
            assert status(app) == (
                "Still sending to tom@example.org: please wait, at most 5 seconds more."
            )
            assert isinstance(app.screen, EmailUserModal)
            await settle(pilot, app, typed=False)
            assert status(app) == "Sent to tom@example.org."
    assert len(server.received) == 1


async def test_help_lists_the_keys_in_words(user_id) -> None:
    app = HostApp(lambda: EmailUserModal(user_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        shown = {item.description for item in screen_actions(app.screen)}
        assert {
            "Close without sending (asks if you typed)",
            "Send the message (Retry after a failure)",
        } <= shown, shown
