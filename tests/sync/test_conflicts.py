"""Which side changed, and which change wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.sync.plan.conflicts import ReplicaChange, desired_status, replica_change, replica_is_later

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_trashing_an_origin_cancels_its_replicas() -> None:
    assert desired_status("trash") == "cancelled" and desired_status("on-hold") == "on-hold"


class TestReplicaChange:
    def test_own_write_is_known(self) -> None:
        assert (
            replica_change(status="processing", modified=T0, known_status="processing", known_modified=T0)
            == ReplicaChange.known
        )

    def test_same_second_with_another_status_is_a_change(self) -> None:
        assert (
            replica_change(status="completed", modified=T0, known_status="processing", known_modified=T0)
            == ReplicaChange.status_changed
        )

    def test_newer_with_same_status_is_seen_only(self) -> None:
        assert (
            replica_change(
                status="processing",
                modified=T0 + timedelta(seconds=5),
                known_status="processing",
                known_modified=T0,
            )
            == ReplicaChange.seen
        )

    def test_trash_on_the_replica_store_does_not_flow_back(self) -> None:
        assert (
            replica_change(
                status="trash",
                modified=T0 + timedelta(seconds=5),
                known_status="processing",
                known_modified=T0,
            )
            == ReplicaChange.seen
        )

    def test_later_change_wins_and_a_tie_goes_to_the_origin(self) -> None:
        assert replica_is_later(origin_changed_at=T0, replica_changed_at=T0 + timedelta(seconds=1))
        assert not replica_is_later(origin_changed_at=T0, replica_changed_at=T0)
