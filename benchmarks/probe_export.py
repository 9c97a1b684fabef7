"""A child process that exports every user to .xlsx and reports time, rows and peak memory.

    probe_export.py export DB_URL OUT   the app's export (services.exports.run_export)
    probe_export.py raw    DB_URL OUT   the floor: the same rows, first read into a Python list
                                        (untimed), then written by openpyxl in write-only mode

Each runs in its own process so VmHWM is the export's own peak, not the runner's.
"""

from __future__ import annotations

import sys
import time

from common import emit, vmhwm_mb


def export(url: str, out: str) -> dict:
    from extgw_tui.db import open_database
    from extgw_tui.services import exports

    open_database(url)
    before = vmhwm_mb()
    started = time.perf_counter()
    result = exports.run_export(exports.make_request("users"), out)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": result.rows,
        "vmhwm_mb": vmhwm_mb(),
        "vmhwm_before_mb": before,
    }


def raw(url: str, out: str) -> dict:
    from openpyxl import Workbook

    from extgw_tui.db import open_database
    from extgw_tui.services import exports

    open_database(url)
    request = exports.make_request("users")
    header = [c.title for c in exports.columns(request)]
    rows = list(exports.export_rows(request))
    started = time.perf_counter()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("External users")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(out)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": len(rows), "vmhwm_mb": vmhwm_mb()}


if __name__ == "__main__":
    mode, url, out = sys.argv[1:4]
    emit(export(url, out) if mode == "export" else raw(url, out))
