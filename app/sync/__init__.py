"""The sync domain, laid out as the story of one order.

1. ``discover/``: read each source store's changed orders by keyset (``listing``), decide their
   targets (``routing``, with each target's ``catalog``) and upsert one ledger link per target
   (``ingest``); webhooks enter here too.
2. ``plan/``: pure functions. ``mapping`` turns an origin order into the replica it should be;
   ``planner`` compares that with the replica as it is now and returns the smallest write;
   ``refunds`` decides which origin refunds a replica must carry, and for how much.
3. ``write/``: claim due links, create replicas in batches, read-plan-write updates, reconcile
   links whose outcome is unknown, write statuses back to origins, copy notes.
4. ``runs/``: the engine that turns schedule ticks, Sync Now and Sync Order into passes, the Full
   sync walk, and the liveness marks that settle runs whose process died.

Shared by all of them: ``context`` (what every step needs), ``repository`` (every query),
``events`` (an order's history), ``retry`` (the retry policy), ``clients`` and ``stores``.
"""
