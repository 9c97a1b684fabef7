"""`extgw-tui keys generate|email|status|revoke`: licence keys from the command line.

generate   make a batch for the chosen pupils on roll and write the letters file (and PDF),
           or the pending emails (--email); --dry-run only counts (and previews the email)
email      send a batch's key emails (resumable: what has gone never goes again)
status     per form: keys redeemed, outstanding (and overdue), revoked, expired; the batches
revoke     the outstanding keys of pupils (by UPN) or of a batch

Exit codes: 0 done; 1 refused (bad option, nothing matches) or some emails failed;
2 database problem (from cli.py).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import replace
from pathlib import Path

from extgw_tui.errors import InvalidInput
from extgw_tui.models import PUPIL
from extgw_tui.services import audit, key_mail
from extgw_tui.services.key_issue import issue
from extgw_tui.services.licence_keys import (
    FOLLOW_UP_DAYS,
    KeyScope,
    Plan,
    batch_state_counts,
    batches,
    count_pupils,
    form_totals,
    get_batch,
    pupil_ids_by_upn,
    revoke,
)
from extgw_tui.services.licences import licence_type_id

EXIT_OK, EXIT_FAILED = 0, 1


def parse_expiry(text: str | None) -> int | None:
    """'30d', '30' or '6w' as days; None for no expiry."""
    if not text:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text.lower())
    if not match:
        raise InvalidInput(f"--expires {text!r}: give days like 30d (or weeks like 6w).")
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    return days


def _scope(args: argparse.Namespace) -> KeyScope:
    type_id = licence_type_id(args.type)
    if args.year is not None and args.form:
        raise InvalidInput("Give --year or --form, not both.")
    pupils = tuple(pupil_ids_by_upn(args.pupil)) if args.pupil else None
    return KeyScope(type_id, pupils, args.year, args.form, args.without_holder)


def _template(args: argparse.Namespace) -> tuple[str, str]:
    subject, body = key_mail.last_template()
    if args.subject:
        subject = args.subject
    if args.body_file:
        try:
            body = Path(args.body_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(
                f"The template {args.body_file} cannot be read: {exc.strerror}."
            ) from None
    return subject, body


def _generate(args: argparse.Namespace) -> int:
    scope = _scope(args)
    per_pupil = args.per_pupil or (1 if args.type.strip().casefold() == PUPIL.casefold() else 2)
    subject, body = _template(args) if args.email else ("", "")
    plan = Plan(
        scope,
        per_pupil,
        parse_expiry(args.expires),
        email=args.email,
        letters=args.output is not None,
        subject=subject,
        body=body,
    )
    replace(plan, letters=True).check() if args.dry_run else plan.check()
    pupils = count_pupils(scope)
    print(f"{pupils:,} pupil(s) on roll: {scope.describe()}; up to {pupils * per_pupil:,} key(s).")
    if args.email:
        sample = key_mail.preview(scope, args.type, subject, body)
        print(f"Preview of the email to {sample.to} (each message gets its own key):")
        print(f"Subject: {sample.subject}\n\n{sample.body}")
    if args.dry_run:
        return EXIT_OK
    if not pupils:
        raise InvalidInput("No pupil matches; nothing was generated.")

    def progress(done: int) -> None:
        if sys.stderr.isatty():
            print(f"\r  {done:,} keys…", end="", file=sys.stderr)

    pdf = Path(args.pdf) if args.pdf else None
    output = Path(args.output) if args.output else None
    result = issue(plan, letters=output, pdf=pdf, progress=progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(
        f"Batch {result.batch_id}: {result.keys:,} key(s) for {result.pupils:,} pupil(s); "
        f"{result.lettered:,} in the letters, {result.emailed:,} to email."
    )
    if result.revoked:
        print(f"{result.revoked:,} older outstanding key(s) of these pupils were revoked.")
    if result.unreachable:
        print(
            f"{result.unreachable:,} pupil(s) got no key: no contact with parental "
            "responsibility has an email address. Generate letters for them."
        )
    if output is not None and result.lettered:
        print(f"Letters: {output}. The keys are nowhere else and cannot be shown again.")
    if pdf is not None and result.lettered:
        print(f"Printable letters: {pdf}.")
    if result.emailed:
        print(f"Send the emails with: extgw-tui keys email --batch {result.batch_id}")
    return EXIT_OK


def _email(args: argparse.Namespace) -> int:
    key_mail.batch_for_email(args.batch)

    def progress(done: int) -> None:
        if done % 50 == 0:
            print(f"  {done:,} done…", file=sys.stderr)

    summary = key_mail.send_batch(args.batch, progress=progress)
    for error in summary.errors:
        print(f"failed: {audit.clean(error)}")
    print(summary.text())
    return EXIT_FAILED if summary.failed or summary.untried else EXIT_OK


def _status(args: argparse.Namespace) -> int:
    if args.batch is not None:
        batch = get_batch(args.batch)
        counts = batch_state_counts(args.batch)
        parts = ", ".join(f"{n:,} {state}" for state, n in sorted(counts.items()))
        print(
            f"Batch {batch.id} ({batch.created_at:%Y-%m-%d %H:%M}, {batch.admin}, "
            f"{batch.method}): {batch.keys:,} key(s): {parts or 'none'}."
        )
        if batch.method == "email":
            print(f"{key_mail.waiting_count(batch.id):,} email(s) still to send.")
        return EXIT_OK
    type_id = licence_type_id(args.type) if args.type else None
    rows = form_totals(form=args.form, year=args.year, licence_type_id=type_id)
    if not rows:
        print("No licence keys have been issued for this choice.")
        return EXIT_OK
    head = (
        "Form",
        "Pupils",
        "Keys",
        "Redeemed",
        "Outstanding",
        f">{FOLLOW_UP_DAYS}d",
        "Revoked",
        "Expired",
    )
    widths = (8, 8, 9, 9, 12, 6, 8, 8)  # 74 columns: fits a terminal of 80
    pairs = enumerate(zip(head, widths, strict=True))
    print(" ".join(f"{h:>{w}}" if i else f"{h:<{w}}" for i, (h, w) in pairs))
    for row in rows:
        values = (
            row.pupils,
            row.keys,
            row.redeemed,
            row.outstanding,
            row.overdue,
            row.revoked,
            row.expired,
        )
        form = audit.clean(row.form or "(none)")[:8]
        cells = (f"{v:>{w},}" for v, w in zip(values, widths[1:], strict=True))
        print(f"{form:<8} " + " ".join(cells))
    print("\nBatches (newest first):")
    for batch in batches(20):
        expiry = f", expire {batch.expires_at:%Y-%m-%d}" if batch.expires_at else ""
        print(
            f"  {batch.id:>5}  {batch.created_at:%Y-%m-%d %H:%M}  {audit.clean(batch.admin)}  "
            f"{batch.licence_type}  {batch.keys:,} by {batch.method}  "
            f"{audit.clean(batch.scope)}{expiry}"
        )
    return EXIT_OK


def _revoke(args: argparse.Namespace) -> int:
    if not args.pupil and args.batch is None:
        raise InvalidInput("Give --pupil UPN (one or more) or --batch N.")
    pupils = pupil_ids_by_upn(args.pupil) if args.pupil else []
    type_id = licence_type_id(args.type) if args.type else None
    count = revoke(
        pupil_ids=pupils, batch_id=args.batch, licence_type_id=type_id, reason=args.reason or ""
    )
    print(f"Revoked {count:,} outstanding key(s)." if count else "No outstanding key to revoke.")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    action = {"generate": _generate, "email": _email, "status": _status, "revoke": _revoke}
    return action[args.keys_command](args)
