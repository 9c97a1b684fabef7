"""The demo's roll: parental contacts (mostly with email and parental responsibility, the
family's account holders among them) and leavers, some of whose holders still have accounts."""

from __future__ import annotations

from datetime import date

from peewee import fn

from extgw_tui.models import Contact, ExternalUser, Licence, Pupil
from extgw_tui.services import demo, review

TODAY = date(2026, 6, 15)


def test_small_demo_has_contacts_and_leavers(db):
    summary = demo.generate("small", today=TODAY)
    assert summary.contacts == Contact.select().count()
    per_pupil = dict(
        Contact.select(Contact.pupil, fn.COUNT(Contact.id)).group_by(Contact.pupil).tuples()
    )
    assert len(per_pupil) == 1_800 and set(per_pupil.values()) == {1, 2}
    without_email = Contact.select().where(Contact.email.is_null()).count()
    responsible = Contact.select().where(Contact.parental_responsibility == True).count()  # noqa: E712
    assert 0 < without_email < 0.2 * summary.contacts
    assert responsible > 0.8 * summary.contacts
    assert Contact.select().where(Contact.parental_responsibility == False).exists()  # noqa: E712
    # the keys are set for the bulk-inserted rows, and contacts match their holders' accounts
    assert not Contact.select().where(Contact.email_key != fn.LOWER(Contact.email)).exists()
    holders = Contact.select().join(ExternalUser, on=(ExternalUser.email_key == Contact.email_key))
    assert holders.count() > 0.5 * summary.contacts

    leavers = Pupil.select().where(Pupil.on_roll == False)  # noqa: E712
    assert summary.leavers == leavers.count() >= 40
    assert not leavers.where(Pupil.left_on.is_null()).exists()
    assert not Pupil.select().where(Pupil.on_roll & Pupil.left_on.is_null(False)).exists()
    assert all(day < TODAY for (day,) in leavers.select(Pupil.left_on).tuples())
    # some leavers' holders still have accounts; the review's second rule has work to do
    linked = Licence.select().join(Pupil).where(Pupil.on_roll == False).count()  # noqa: E712
    assert linked > 0
    assert review.count_candidates(6, TODAY, review.LEFT) >= 5
    assert review.count_candidates(1, TODAY, review.LEFT) > review.count_candidates(
        18, TODAY, review.LEFT
    )
