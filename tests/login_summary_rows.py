"""The login summary tables as sets, to compare an upkept summary with a rebuild (a helper
module, not a test module)."""

from __future__ import annotations

from extgw_tui.models import LoginDay, LoginPeriodUsers, LoginUserPeriod


def summary_rows() -> tuple[set, set, set]:
    days = set(LoginDay.select(LoginDay.day, LoginDay.licence_mask, LoginDay.logins).tuples())
    P, U = LoginUserPeriod, LoginPeriodUsers
    seen = set(P.select(P.kind, P.start, P.user_id, P.licence_mask).tuples())
    counts = set(U.select(U.kind, U.start, U.licence_type, U.users).tuples())
    return days, seen, counts
