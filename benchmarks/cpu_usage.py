"""Who used the machine's CPU during a measurement: given processes, and everything else (others share it).

Read from ``/proc`` (Linux): a process's user+system time, and the whole machine's busy time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """CPU seconds ``pid`` has used so far (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent not idle since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICKS


@dataclass
class CpuWindow:
    """CPU used between :meth:`start` and :meth:`stop`, by named groups of processes and by the machine."""

    busy_before: float = 0.0
    before: dict[int, float] | None = None

    def start(self, pids: list[int]) -> None:
        self.before = {pid: process_seconds(pid) for pid in pids}
        self.busy_before = machine_busy_seconds()

    def stop(self, groups: dict[str, list[int]]) -> dict[str, float]:
        """CPU seconds per group (a pid not seen at the start counts from zero) and ``machine``/``others``."""
        busy = machine_busy_seconds() - self.busy_before
        before = self.before or {}
        used = {
            name: round(sum(process_seconds(pid) - before.get(pid, 0.0) for pid in pids), 2)
            for name, pids in groups.items()
        }
        ours = sum(used.values())
        return used | {"machine": round(busy, 2), "others": round(max(busy - ours, 0.0), 2)}
