"""Run one command and write what it cost to a JSON file: ``measure_wrapper.py OUT CMD...``.

Its own cost is not counted: RUSAGE_CHILDREN covers the command and every descendant it waited
for (Prefect's server subprocess included); a thread samples the RSS of the whole tree every
0.2 s. ``maxrss_kb`` is ``ru_maxrss``: the largest single process of the tree. Run as its own
process by ``measuring.Runner``; it imports nothing of the project, so it adds little.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(pid))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
        todo += children.get(pid, [])
    return total


def main(argv: Sequence[str]) -> int:
    out, cmd = argv[0], list(argv[1:])
    tree_peak = [0]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd)

    def sample() -> None:
        while proc.poll() is None:
            tree_peak[0] = max(tree_peak[0], tree_rss(proc.pid))
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    rc = proc.wait()
    wall = time.perf_counter() - started
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        json.dump(
            {
                "rc": rc,
                "wall": wall,
                "user": ru.ru_utime,
                "sys": ru.ru_stime,
                "maxrss_kb": ru.ru_maxrss,
                "tree_rss_bytes": tree_peak[0],
            },
            f,
        )
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
