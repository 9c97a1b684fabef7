"""A child process that previews or applies a roll import: its time, counts and peak memory.

    probe_import.py preview DB_URL FILE   services.roll_import.preview (writes nothing)
    probe_import.py apply   DB_URL FILE   services.roll_import.apply (one transaction)
    probe_import.py roll    DB_URL FILE   write the demo's roll file (untimed set-up)

Each runs in its own process so VmHWM is the import's own peak, not the runner's.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from common import emit, vmhwm_mb


def main(mode: str, url: str, file: str) -> dict:
    from extgw_tui.db import open_database
    from extgw_tui.services import audit, roll_import
    from extgw_tui.services.demo_roll import write_roll_file

    audit.set_admin("benchmark")
    open_database(url)
    before = vmhwm_mb()
    started, cpu = time.perf_counter(), time.process_time()
    if mode == "roll":
        summary = write_roll_file(Path(file))
        return {"pupils": summary.pupils, "contacts": summary.contacts}
    run = roll_import.preview if mode == "preview" else roll_import.apply
    result = run(Path(file))
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,  # this process (with SQLite), not the server
        "vmhwm_mb": vmhwm_mb(),
        "vmhwm_before_mb": before,
        "rows": result.rows,
        "new": result.new,
        "changed": result.changed,
        "unchanged": result.unchanged,
        "leaving": result.leaving,
        "contacts_added": result.contacts_added,
        "contacts_changed": result.contacts_changed,
        "contacts_removed": result.contacts_removed,
        "refused": result.rejected_count,
    }


if __name__ == "__main__":
    emit(main(*sys.argv[1:4]))
