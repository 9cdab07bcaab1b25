"""Run small linear algebra and tiny networks on one thread.

The chapter's matrices are small (a few hundred rows), so the work per call is tiny and the cost
of waking BLAS/torch worker threads dominates; on a busy two-core laptop two threads were 10-50x
slower than one in our measurements. ``one_thread()`` sets one BLAS thread (threadpoolctl) and
one torch thread (if torch is in use) for the duration of a ``with`` block, and restores both
afterwards.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    from threadpoolctl import threadpool_limits

    # Only touch torch when the caller already uses it: importing it costs seconds.
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=1):
        if torch is not None:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if torch is not None and before is not None:
                torch.set_num_threads(before)
