"""The schema is created on both backends and the core services run on it."""

from extgw_tui.models import SCHEMA_VERSION, LicenceType, SchemaInfo
from extgw_tui.services import access, portal, users


def test_schema_and_defaults(db):
    assert SchemaInfo.get().version == SCHEMA_VERSION
    assert [t.name for t in LicenceType.select().order_by(LicenceType.id)] == [
        "Parent/Guardian",
        "Pupil",
    ]


def test_register_search_deny(db):
    user = portal.register("A.Jones@example.org", "long enough pw", surname="Jones")
    assert users.count_users("jon") == 1
    assert users.count_users("EXAMPLE.ORG") == 1
    assert users.count_users("%") == 0
    result = access.set_access([user.id], False)
    assert result.changed == 1
    assert portal.authenticate("a.jones@example.org", "long enough pw") is None
