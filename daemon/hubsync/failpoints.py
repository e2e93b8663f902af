"""Named crash sites for fault tests (as FreeBSD fail(9) and tikv fail-rs do).

``HUBSYNC_FAILPOINT=after_post_before_record`` kills the process with SIGKILL the first time
that site is reached; ``name:N`` on the N-th time. Unset (always, in production): a no-op.
"""

from __future__ import annotations

import os
import signal
import threading

_counts: dict[str, int] = {}
_lock = threading.Lock()


def hit(name: str) -> None:
    spec = os.environ.get("HUBSYNC_FAILPOINT")
    if not spec:
        return
    wanted, _, nth = spec.partition(":")
    if wanted != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        reached = _counts[name] >= int(nth or 1)
    if reached:
        os.kill(os.getpid(), signal.SIGKILL)
