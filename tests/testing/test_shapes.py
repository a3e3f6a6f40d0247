"""Plain exchanges on real 7.8.2 and 10.6.2 stores, key for key (``recorded/real-*/s*``).

A processing order with meta, a shipping line and a fee; its notes; a refund with a line; a
mixed batch; a product; the system status. The fake playing each version and storage must
answer with the same keys all the way down (10.6's ``global_unique_id``, ``tax_status`` on
shipping lines, ``targetHints``, ...) and the same values once ids and dates are set aside.
"""

from __future__ import annotations

import pytest

from tests.testing.replay import assert_replays, recorded, recorded_cases, replayed


@pytest.mark.parametrize(("folder", "case"), recorded_cases("s"))
def test_replays_the_recording(folder: str, case: str) -> None:
    assert_replays(recorded(folder, case), replayed(folder, "shapes")[case])
