"""The sync engine: turns run requests (schedule, Sync Now, Sync Order) into passes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.db import SessionFactory, is_sqlite, session_scope
from app.errors import InvalidRequest, OrderNotFound, StoreUnavailable
from app.models import (
    Direction,
    Link,
    Run,
    RunKind,
    RunStatus,
    Store,
    StoreRole,
    SyncMode,
    utcnow,
)
from app.sync import repository as repo
from app.sync.clients import ClientRegistry
from app.sync.context import SyncContext, kv, log
from app.sync.discover.listing import direction_of, discover_one, discover_source
from app.sync.retry import RetryPolicy
from app.sync.runs.full import full_walk
from app.sync.runs.liveness import ProcessMark, lease_tag
from app.sync.write.flowback import flow_back
from app.sync.write.notes import sync_notes
from app.sync.write.replicate import ReplicationStats, drain_origin_notes, replicate_target
from app.woocommerce.errors import NotFoundError, WooCommerceError

DIRECTION_ORDER = (Direction.sub_to_main, Direction.main_to_sub)
EARLY_POLL = 0.25  # seconds between looks for new orders to copy while discovery reads


@dataclass(frozen=True)
class PassScope:
    sources: list[Store]
    targets: list[Store]


def directions_for(direction: str) -> list[Direction]:
    if direction == "both":
        return list(DIRECTION_ORDER)  # sub->main first, so one click leaves every store complete
    return [Direction(direction)]


class SyncEngine:
    def __init__(
        self,
        session_factory: SessionFactory,
        clients: ClientRegistry,
        settings: Settings,
        *,
        mark: ProcessMark,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.ctx = SyncContext(
            session_factory=session_factory,
            clients=clients,
            settings=settings,
            policy=policy
            or RetryPolicy(
                max_attempts=settings.max_attempts,
                base_seconds=settings.backoff_base_seconds,
                max_seconds=settings.backoff_max_seconds,
            ),
        )
        self._mark = mark
        # Leases carry the process's mark, so that the leases of a process that died are let go
        # as soon as its mark is gone (not after WCSYNC_LEASE_SECONDS).
        self.ctx.owner = lease_tag(mark.owner)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._inline: set[int] = set()  # Sync Order runs, which run in their request
        # Run requests one at a time in this process: a run committed but not yet started must
        # not be taken for an orphan by a request running beside it.
        self._request_lock = asyncio.Lock()
        # One pass per direction at a time in this process; leases keep processes apart.
        self._direction_locks = {d: asyncio.Lock() for d in Direction}
        # Origin notes, drained per target in the background after a pass's creates (low
        # priority: they take a store's request slot only when no write waits for it).
        self._note_tasks: dict[int, asyncio.Task[None]] = {}
        # After a pass that wrote, one discovery once its writes are older than the overlap
        # window, so that the next pass need not read them again: an idle pass then costs one
        # request per store and direction, even right after a big sync. On with the scheduler.
        self.settle_after_pass = settings.scheduler_enabled
        self._settle_task: asyncio.Task[None] | None = None
        # Full syncs of dead processes settled here, to be continued once the settling commits.
        self._orphaned_full: list[int] = []
        self._resumes: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> bool:
        return any(not t.done() for t in self._tasks.values())

    async def startup(self) -> None:
        """Settle what processes that died left behind: their runs are marked failed, and the
        Full syncs among them are continued. With SQLite there is only ever one process, so
        its leases died with it too."""
        await self._mark.hold()
        async with session_scope(self.ctx.session_factory) as session:
            now = utcnow()
            released = await repo.release_leases(session, now=now) if self._sqlite else 0
            settled = await self._settle(session, now)
            full = [r for r in await repo.runs_by_ids(session, settled) if r.mode == SyncMode.full]
        self._orphaned_full.clear()  # continued here, at once
        if released or settled:
            log.info("sync.startup.recovered %s", kv(leases=released, runs=len(settled)))
        await self._continue_full([r.id for r in full if r.id is not None])

    async def _continue_full(self, run_ids: Sequence[int]) -> None:
        """Continue Full syncs that a dead process left unfinished, from where their walk was."""
        async with session_scope(self.ctx.session_factory) as session:
            runs = await repo.runs_by_ids(session, run_ids)
        for run in runs:
            resumed, _ = await self.request_run(
                kind=RunKind(run.kind),
                direction=run.direction,
                store=run.store_name,
                mode=SyncMode.full,
                since=run.since,
            )
            log.info("sync.full.resumed %s", kv(run=run.id, continued_by=resumed.id))

    def _continue_orphans(self) -> None:
        """Continue, in the background, the Full syncs this process settled as orphans (after
        the settling committed: the continuation looks them up as failed)."""
        if not self._orphaned_full:
            return
        ids, self._orphaned_full = list(self._orphaned_full), []

        async def resume() -> None:
            try:
                await self._continue_full(ids)
            except Exception:  # retried by the next settle that finds nothing running
                log.exception("sync.full.resume_failed %s", kv(runs=",".join(map(str, ids))))

        task = asyncio.create_task(resume(), name="wcsync-resume-full")
        self._resumes.add(task)
        task.add_done_callback(self._resumes.discard)

    @property
    def _sqlite(self) -> bool:
        return is_sqlite(self.ctx.settings.database_url)

    def _live_run_ids(self) -> set[int]:
        return {rid for rid, task in self._tasks.items() if not task.done()} | self._inline

    async def _settle(self, session: AsyncSession, now: datetime) -> list[int]:
        """Mark failed the runs no live process is running (see app.sync.runs.liveness)."""
        live = await self._mark.live_owners(session)
        self.ctx.owner = lease_tag(self._mark.owner)  # the mark is drawn again if its lock was lost
        others = live - {self._mark.owner}
        settled = await repo.settle_orphaned_runs(
            session, now=now, live_owners=others, live_run_ids=sorted(self._live_run_ids())
        )
        if settled:
            log.warning("sync.runs.orphaned %s", kv(runs=",".join(map(str, settled))))
            # Whoever finds a dead process's Full sync continues it (`_continue_orphans`).
            self._orphaned_full += [
                r.id for r in await repo.runs_by_ids(session, settled) if r.mode == SyncMode.full and r.id
            ]
        released = await repo.release_dead_leases(session, now=now, live_tags={lease_tag(o) for o in live})
        if released:
            log.warning("sync.leases.released %s", kv(links=released))
        return settled

    # --- requesting runs ----------------------------------------------------------------

    async def request_run(
        self,
        *,
        kind: RunKind,
        direction: str = "both",
        store: str | None = None,
        mode: SyncMode = SyncMode.smart,
        since: datetime | None = None,
    ) -> tuple[Run, bool]:
        """Queue a pass and start it, or return the equivalent pass already queued or running
        (two Sync Now clicks never run two passes over the same links). Returns (run, new).
        A Full sync of a dead process found on the way is continued too."""
        try:
            return await self._request_run(
                kind=kind, direction=direction, store=store, mode=mode, since=since
            )
        finally:
            self._continue_orphans()

    async def _request_run(
        self,
        *,
        kind: RunKind,
        direction: str,
        store: str | None,
        mode: SyncMode,
        since: datetime | None,
    ) -> tuple[Run, bool]:
        if direction not in ("both", "main_to_sub", "sub_to_main"):
            raise InvalidRequest(f"Unknown direction {direction!r}.")
        async with self._request_lock:
            async with session_scope(self.ctx.session_factory) as session:
                if store is not None:
                    await repo.get_store(session, store)
                await self._settle(session, utcnow())
                existing = await repo.active_run(
                    session, direction=direction, store_name=store, mode=mode, kind=kind
                )
                if existing is not None:  # alive: ours, or another live process's
                    return existing, False
                run = Run(
                    kind=kind,
                    direction=direction,
                    store_name=store,
                    mode=mode,
                    since=since,
                    owner=self._mark.owner,
                )
                if mode == SyncMode.full:
                    # A Full sync that a crash or a restart interrupted is continued, not restarted.
                    unfinished = await repo.unfinished_full_run(
                        session, direction=direction, store_name=store, since=since
                    )
                    if unfinished is not None:
                        run.details = {
                            "walk": (unfinished.details or {}).get("walk", {}),
                            "drift": (unfinished.details or {}).get("drift", {}),
                            "resumed_from": unfinished.id,
                        }
                session.add(run)
                await session.flush()
                assert run.id is not None
                run_id = run.id
            # Registered before the lock is let go, so that no request takes it for an orphan.
            self._tasks = {rid: task for rid, task in self._tasks.items() if not task.done()}
            self._tasks[run_id] = asyncio.create_task(self.execute(run_id), name=f"wcsync-run-{run_id}")
        return run, True

    async def wait(self, run_id: int, timeout: float | None = None, *, poll: float = 0.5) -> Run:
        """Wait for a run to finish: our own task, or, for a run another process is running,
        by reading it until it ends (it ends as failed if that process dies)."""
        task = self._tasks.get(run_id)
        if task is not None:
            await asyncio.wait_for(asyncio.shield(task), timeout)
            async with session_scope(self.ctx.session_factory) as session:
                return await repo.get_run(session, run_id)
        return await asyncio.wait_for(self._poll(run_id, poll), timeout)

    async def _poll(self, run_id: int, every: float) -> Run:
        while True:
            async with session_scope(self.ctx.session_factory) as session:
                run = await repo.get_run(session, run_id)
                if run.status not in (RunStatus.queued, RunStatus.running):
                    return run
                await self._settle(session, utcnow())
            self._continue_orphans()
            await asyncio.sleep(every)

    @property
    def notes_busy(self) -> bool:
        return any(not t.done() for t in self._note_tasks.values())

    async def notes_drained(self, timeout: float | None = None) -> None:
        """Wait until the origin notes queued so far are written (benchmarks, tests)."""
        pending = [t for t in self._note_tasks.values() if not t.done()]
        if pending:
            await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), timeout)

    def _drain_notes(self, target: Store) -> None:
        assert target.id is not None
        running = self._note_tasks.get(target.id)
        if running is not None and not running.done():
            return  # the running drain takes what this pass queued too

        async def drain() -> None:
            try:
                written = await drain_origin_notes(self.ctx, target)
                if written:
                    log.info("sync.notes.written %s", kv(store=target.name, notes=written))
            except Exception:  # a note is never worth a crash; its link keeps it queued
                log.exception("sync.notes.crashed %s", kv(store=target.name))

        self._note_tasks[target.id] = asyncio.create_task(drain(), name=f"wcsync-notes-{target.name}")

    def _schedule_settle(self) -> None:
        if self._settle_task is not None and not self._settle_task.done():
            self._settle_task.cancel()  # a later pass wrote: settle after it instead

        async def settle() -> None:
            await asyncio.sleep(self.ctx.settings.discovery_overlap_seconds + 1)
            await self.notes_drained()
            run, _ = await self.request_run(kind=RunKind.discovery, direction="both")
            assert run.id is not None
            await self.wait(run.id)

        self._settle_task = asyncio.create_task(settle(), name="wcsync-settle")

    async def settled(self, timeout: float | None = None) -> None:
        """Wait for the discovery that follows a pass that wrote (benchmarks, tests)."""
        if self._settle_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._settle_task), timeout)

    async def shutdown(self, timeout: float = 30.0) -> None:
        """Let running passes finish (bounded), then cancel what remains."""
        for resume in list(self._resumes):
            resume.cancel()
        await asyncio.gather(*self._resumes, return_exceptions=True)
        if self._settle_task is not None:
            self._settle_task.cancel()
            await asyncio.gather(self._settle_task, return_exceptions=True)
        for task in self._note_tasks.values():
            task.cancel()  # queued notes stay queued for the next start
        await asyncio.gather(*self._note_tasks.values(), return_exceptions=True)
        pending = [t for t in self._tasks.values() if not t.done()]
        if pending:
            done, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
        await self._mark.release()

    # --- executing ----------------------------------------------------------------------

    async def _scope(self, direction: Direction, store: str | None) -> PassScope:
        async with session_scope(self.ctx.session_factory) as session:
            stores = await repo.list_stores(session, enabled_only=True)
        mains = [s for s in stores if s.role == StoreRole.main]
        subs = [s for s in stores if s.role == StoreRole.sub]
        if store is not None and store not in {s.name for s in mains}:
            subs = [s for s in subs if s.name == store]
        if direction == Direction.main_to_sub:
            return PassScope(sources=mains, targets=subs)
        return PassScope(sources=subs, targets=mains)

    async def _update_run(self, run_id: int, **values: object) -> None:
        async with session_scope(self.ctx.session_factory) as session:
            run = await repo.get_run(session, run_id)
            for key, value in values.items():
                setattr(run, key, value)

    async def _progress(self, run_id: int, delta: ReplicationStats) -> None:
        async with session_scope(self.ctx.session_factory) as session:
            await repo.add_run_counts(
                session,
                run_id,
                progress_done=delta.done,
                created=delta.created + delta.adopted,
                updated=delta.updated,
                skipped=delta.skipped,
                failed=delta.failed,
            )

    async def _add_errors(self, run_id: int, errors: Sequence[str]) -> None:
        if not errors:
            return
        async with session_scope(self.ctx.session_factory) as session:
            run = await repo.get_run(session, run_id)
            run.errors = [*run.errors, *({"message": e} for e in errors)][-200:]

    async def execute(self, run_id: int) -> None:
        """Run one queued pass to its end and record how it went."""
        async with session_scope(self.ctx.session_factory) as session:
            run = await repo.get_run(session, run_id)
            run.status, run.started_at = RunStatus.running, utcnow()
            direction, store, kind, mode, since = run.direction, run.store_name, run.kind, run.mode, run.since
        errors: list[str] = []
        stores_read = 0  # a run that read some store did something, even if it could write nothing
        directions = directions_for(direction)
        force = kind in (RunKind.sync_now, RunKind.order)
        try:
            async with contextlib.AsyncExitStack() as held:
                for each in directions:
                    await held.enter_async_context(self._direction_locks[each])
                # Every store is read before anything is written, so that a status set on a
                # replica meets the latest origin (conflicts are judged on both sides' news),
                # then sub->main goes first, so that one click leaves every store complete.
                # New orders are copied while discovery reads on: creates depend on nothing
                # another store may change, so they need not wait for every store to be read.
                if force and mode != SyncMode.full and kind != RunKind.discovery:
                    # Parked links get a fresh set of attempts before anything is claimed (a
                    # run claims a link once, and creates start while discovery reads).
                    await self._requeue_failed(directions, store)
                discovering = asyncio.Event()
                early: asyncio.Task[list[str]] | None = None
                if mode != SyncMode.full and kind != RunKind.discovery:
                    early = asyncio.create_task(self._early_creates(run_id, directions, store, discovering))
                try:
                    for each in directions:
                        if mode == SyncMode.full:
                            scope = await self._scope(each, store)
                            errors += await full_walk(
                                self.ctx, run_id, each, scope.sources, scope.targets, since
                            )
                        else:
                            found, read = await self._discover(run_id, each, store)
                            errors += found
                            stores_read += read
                finally:
                    discovering.set()
                    if early is not None:
                        errors += await early
                if kind != RunKind.discovery:
                    errors += await self._flow_back(run_id)
                    for each in directions:
                        errors += await self._replicate(run_id, each, store, force=force)
                if mode == SyncMode.full:
                    await self._copy_notes(run_id, store)
                    await self._finish_walk(run_id)
        except Exception as exc:  # the run records it; nothing else stops
            log.exception("sync.run.crashed %s", kv(run=run_id))
            errors.append(f"internal error: {type(exc).__name__}: {exc}")
        finally:
            await self._add_errors(run_id, errors)
            async with session_scope(self.ctx.session_factory) as session:
                run = await repo.get_run(session, run_id)
                if errors and run.created == 0 and run.progress_done == 0 and stores_read == 0:
                    run.status = RunStatus.failed
                elif errors or run.failed:
                    run.status = RunStatus.partial
                else:
                    run.status = RunStatus.succeeded
                run.finished_at = utcnow()
                status = run.status
                wrote = run.created + run.updated > 0
            log.info("sync.run.finished %s", kv(run=run_id, status=status))
            if wrote and kind != RunKind.discovery and self.settle_after_pass:
                self._schedule_settle()

    async def _discover(self, run_id: int, direction: Direction, store: str | None) -> tuple[list[str], int]:
        """Discover every source of the direction at once; returns the errors and how many
        sources were read."""
        scope = await self._scope(direction, store)
        errors: list[str] = []
        read = 0
        results = await asyncio.gather(
            *(discover_source(self.ctx, s, direction, run_id=run_id) for s in scope.sources),
            return_exceptions=True,
        )
        for source, result in zip(scope.sources, results, strict=True):
            if isinstance(result, WooCommerceError):
                errors.append(f"store {source.name}: could not list orders: {result}")
                await self._store_error(source, str(result))
            elif isinstance(result, BaseException):
                raise result
            else:
                read += 1
                errors += result.errors
                async with session_scope(self.ctx.session_factory) as session:
                    await repo.add_run_counts(session, run_id, skipped=result.skipped)
        return errors, read

    async def _requeue_failed(self, directions: Sequence[Direction], store: str | None) -> None:
        now = utcnow()
        async with session_scope(self.ctx.session_factory) as session:
            for direction in directions:
                for target in (await self._scope(direction, store)).targets:
                    await repo.requeue_failed(
                        session, direction=direction, target_store_id=target.id, now=now
                    )

    async def _early_creates(
        self, run_id: int, directions: Sequence[Direction], store: str | None, done: asyncio.Event
    ) -> list[str]:
        """While discovery reads, copy the new orders it has queued so far: creates only (a
        link without a replica), claimed by this run so that the pass proper skips them. Every
        target keeps its own workers; one that finds nothing due waits for discovery's next
        committed page (or `EARLY_POLL` seconds) until discovery is done, then the rest is
        drained once more."""
        errors: list[str] = []

        async def more(mark: int) -> bool:
            """For a worker that found nothing due: wait for discovery's next page after
            `mark` (False once discovery is done)."""
            if done.is_set():
                return False
            await self.ctx.wait_links_queued(mark, EARLY_POLL)
            return True

        async def one(direction: Direction, target: Store) -> None:
            while True:
                finished = done.is_set()
                stats = await replicate_target(
                    self.ctx,
                    target,
                    direction,
                    run_id=run_id,
                    creates_only=True,
                    count_total=True,
                    on_progress=lambda delta: self._progress(run_id, delta),
                    wait_for_more=more,
                )
                errors.extend(stats.errors)
                if finished or stats.errors:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), EARLY_POLL)

        scopes = [(d, await self._scope(d, store)) for d in directions]
        results = await asyncio.gather(
            *(one(d, t) for d, scope in scopes for t in scope.targets), return_exceptions=True
        )
        for result in results:
            if isinstance(result, WooCommerceError):
                errors.append(str(result))
            elif isinstance(result, BaseException):
                raise result
        return errors

    async def _copy_notes(self, run_id: int, store: str | None) -> None:
        """Full sync copies notes for every synced link, a page of links at a time."""
        after = 0
        while True:
            async with session_scope(self.ctx.session_factory) as session:
                ids = await repo.synced_link_ids(session, after=after, limit=200, store_name=store)
            if not ids:
                return
            await sync_notes(self.ctx, ids, run_id=run_id)
            after = ids[-1]

    async def _finish_walk(self, run_id: int) -> None:
        async with session_scope(self.ctx.session_factory) as session:
            run = await repo.get_run(session, run_id)
            run.details = {**run.details, "complete": True}

    async def _flow_back(self, run_id: int) -> list[str]:
        flowed = await flow_back(self.ctx, run_id=run_id)
        if flowed.written:
            async with session_scope(self.ctx.session_factory) as session:
                await repo.add_run_counts(session, run_id, updated=flowed.written)
        return flowed.errors

    async def _replicate(
        self, run_id: int, direction: Direction, store: str | None, *, force: bool
    ) -> list[str]:
        scope = await self._scope(direction, store)
        errors: list[str] = []
        now = utcnow()
        async with session_scope(self.ctx.session_factory) as session:
            total = 0
            for target in scope.targets:
                assert target.id is not None
                total += await repo.count_due(
                    session,
                    target_store_id=target.id,
                    direction=direction,
                    now=now,
                    ignore_schedule=force,
                )
            await repo.add_run_counts(session, run_id, progress_total=total)

        async def progress(delta: ReplicationStats) -> None:
            await self._progress(run_id, delta)

        stats = await asyncio.gather(
            *(
                replicate_target(
                    self.ctx,
                    t,
                    direction,
                    run_id=run_id,
                    ignore_schedule=force,
                    on_progress=progress,
                )
                for t in scope.targets
            ),
            return_exceptions=True,
        )
        for target, outcome in zip(scope.targets, stats, strict=True):
            if isinstance(outcome, WooCommerceError):
                errors.append(f"store {target.name}: {outcome}")
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                errors += outcome.errors
            self._drain_notes(target)
        return errors

    async def _store_error(self, store: Store, message: str) -> None:
        async with session_scope(self.ctx.session_factory) as session:
            fresh = await session.get(Store, store.id)
            if fresh is not None:
                fresh.last_error, fresh.last_error_at = message, utcnow()

    # --- Sync Order -----------------------------------------------------------------------

    async def sync_order(self, store_name: str, order_id: int) -> tuple[int, list[Link]]:
        """Discover and replicate one order at once; returns the run id and its links."""
        async with session_scope(self.ctx.session_factory) as session:
            source = await repo.get_store(session, store_name)
            run = Run(
                kind=RunKind.order,
                direction=direction_of(source).value,
                store_name=store_name,
                order_id=order_id,
                status=RunStatus.running,
                started_at=utcnow(),
                mode="order",
                owner=self._mark.owner,
            )
            session.add(run)
            await session.flush()
            assert run.id is not None
            run_id = run.id
            self._inline.add(run_id)
        try:
            return run_id, await self._run_order(run_id, source, order_id)
        finally:
            self._inline.discard(run_id)

    async def _run_order(self, run_id: int, source: Store, order_id: int) -> list[Link]:
        store_name = source.name
        errors: list[str] = []
        link_ids: list[int] = []
        try:
            try:
                order = await self.ctx.clients.get(source).get_order(order_id)
            except NotFoundError as exc:
                raise OrderNotFound(store_name, order_id) from exc
            except WooCommerceError as exc:
                raise StoreUnavailable(
                    f"Could not read order {order_id} from store {store_name!r}: {exc}"
                ) from exc
            try:
                discovered = await discover_one(self.ctx, source, order, run_id=run_id)
            except WooCommerceError as exc:
                # A target routed by SKU whose catalogue cannot be read: say which, never a 500.
                raise StoreUnavailable(
                    f"Could not route order {order_id}: store {exc.store or '?'!r} did not answer: {exc}"
                ) from exc
            errors += discovered.errors
            link_ids = discovered.link_ids
            direction = direction_of(source)
            async with session_scope(self.ctx.session_factory) as session:
                links = await repo.links_by_ids(session, link_ids)
                targets = {ln.target_store_id for ln in links}
                stores = await repo.stores_by_id(session)
                await repo.add_run_counts(
                    session, run_id, progress_total=len(links), skipped=discovered.skipped
                )
            flowed = await flow_back(self.ctx, run_id=run_id)
            errors += flowed.errors
            for target_id in sorted(targets):
                stats = await replicate_target(
                    self.ctx,
                    stores[target_id],
                    direction,
                    run_id=run_id,
                    ignore_schedule=True,
                    only_ids=[ln.id for ln in links if ln.target_store_id == target_id and ln.id is not None],
                )
                await self._progress(run_id, stats)
                errors += stats.errors
                # One order: its note is written now, after its create.
                await drain_origin_notes(
                    self.ctx, stores[target_id], [ln.id for ln in links if ln.id is not None]
                )
            # Notes move no modified date: an explicit Sync Order is when they are copied.
            await sync_notes(self.ctx, link_ids, run_id=run_id)
        except Exception as exc:
            errors.append(str(exc))
            await self._add_errors(run_id, errors)
            await self._update_run(run_id, status=RunStatus.failed, finished_at=utcnow())
            raise
        await self._add_errors(run_id, errors)
        async with session_scope(self.ctx.session_factory) as session:
            run = await repo.get_run(session, run_id)
            run.status = RunStatus.partial if (errors or run.failed) else RunStatus.succeeded
            run.finished_at = utcnow()
            links = await repo.links_by_ids(session, link_ids)
        return links
