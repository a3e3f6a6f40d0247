"""The OpenAPI document tells the truth: schemathesis generates requests from it, valid and
invalid, and every answer must be documented (status, headers, body), never a server error, and
a wrong method must name the right methods in Allow.

wcsync runs on loopback in a thread, on a SQLite file of its own, with every store request
answered by a stand-in (no network). The number of examples per operation is bounded so that the
whole module stays under about 30 s on two shared cores.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from app.main import create_app
from app.models import Store
from tests.e2e.support import TOKEN, service_settings

# Examples per operation, and workflows of the stateful phase: sequences of calls that feed one
# answer into the next (a store created, then read, edited, checked, deleted; links inferred from
# the document). WCSYNC_SCHEMATHESIS_SCALE multiplies both for a deeper run by hand.
SCALE = int(os.environ.get("WCSYNC_SCHEMATHESIS_SCALE", "1"))
EXAMPLES = 25 * SCALE
WORKFLOWS = 15 * SCALE
STEPS = 6
CALLS: list[int] = []
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Every check but one: wcsync refuses some input that JSON Schema cannot describe (a link-local
# store host, an IP address in octal, a date before 2000), so schema-valid input may get a 422,
# which is documented. The rest include: no 5xx, every status/header/body documented, invalid
# input refused, a wrong method answered 405 with the right Allow, auth not ignored.
# schemathesis's "no 5xx" check is replaced by `_no_server_error`: every store is down here, and a
# route that must ask a store answers the documented `502 store_unavailable`, which is the store's
# failure said in words, not wcsync's. Any other 5xx fails.
EXCLUDED = [checks.positive_data_acceptance, checks.not_a_server_error]


def _no_server_error(response: Any) -> None:
    if response.status_code < 500:
        return
    code = None
    if response.status_code == 502:
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = None
    assert code == "store_unavailable", f"{response.status_code}: {response.text[:500]}"


def _no_store(_: Store) -> httpx.AsyncBaseTransport:
    """Every store is down: store calls end as documented errors, and nothing leaves the machine."""
    return httpx.MockTransport(lambda request: httpx.Response(503, text="down for the test"))


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # not the main thread
        pass


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = Path(tmp_path_factory.mktemp("openapi")) / "wcsync.db"
    app = create_app(
        service_settings(
            f"sqlite+aiosqlite:///{database}",
            # schemathesis sends wrong tokens on purpose (ignored-auth probes); the throttle has
            # its own tests and would turn the rest of this run into 429s.
            auth_max_failures=1_000_000,
            auth_address_max_failures=1_000_000,
        ),
        transport_factory=_no_store,
    )
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    thread.start()
    for _ in range(500):
        if server.started or not thread.is_alive():
            break
        threading.Event().wait(0.02)
    assert server.started, "wcsync did not start"
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    # Something for the read routes to find, so that not every example is a 404.
    httpx.post(
        f"{url}/api/stores",
        headers=AUTH,
        json={
            "name": "main",
            "role": "main",
            "base_url": "https://main.store.test",
            "consumer_key": "ck_main_0123456789",
            "consumer_secret": "cs_main_0123456789",
        },
    ).raise_for_status()
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(30)


# The document the app serves at /openapi.json, built without starting it (the app serves the
# same one: a test below checks).
schema = schemathesis.openapi.from_dict(
    create_app(service_settings("sqlite+aiosqlite://")).openapi(),
    config=schemathesis.Config.from_dict(
        {
            # Told as auth (not as a header of each call), schemathesis knows the requests carry
            # it and can also leave it out on purpose.
            "auth": {"openapi": {"HTTPBearer": {"bearer": TOKEN}}},
            # Unknown query parameters are ignored, as HTTP APIs do; not "invalid data".
            "generation": {"allow-extra-parameters": False},
        }
    ),
)


def test_the_served_document_is_the_one_tested(base_url: str) -> None:
    assert httpx.get(f"{base_url}/openapi.json").json() == schema.raw_schema


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_documented(case: Any, base_url: str) -> None:
    response = case.call(base_url=base_url)
    CALLS.append(response.status_code)
    _no_server_error(response)
    case.validate_response(response, excluded_checks=EXCLUDED)


@pytest.mark.skipif(
    os.environ.get("WCSYNC_SCHEMATHESIS_STATEFUL", "") != "1",
    reason="the stateful phase runs by hand (WCSYNC_SCHEMATHESIS_STATEFUL=1): in a worker that ran "
    "tests/test_cli.py's fake-store test first, its replay fails with FlakyStrategyDefinition "
    "(not understood yet; issue 18)",
)
def test_every_answer_in_a_workflow_is_documented(base_url: str) -> None:
    calls: list[int] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": base_url}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            calls.append(response.status_code)
            _no_server_error(response)
            case.validate_response(response, excluded_checks=EXCLUDED, transport_kwargs=kwargs)

    Workflow.run(
        settings=settings(
            max_examples=WORKFLOWS,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            # The server keeps what earlier steps made: shrinking a failure could not replay it
            # (FlakyStrategyDefinition) and would hide it. The failure is reported as found.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    print(f"schemathesis: stateless calls={len(CALLS)} statuses={sorted(set(CALLS))}")
    print(f"schemathesis: stateful calls={len(calls)} statuses={sorted(set(calls))}")
    assert calls, "the stateful phase made no call"
    assert not [status for status in calls if status >= 500 and status != 502]
