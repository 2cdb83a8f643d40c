"""Schemathesis against the OpenAPI schema, in-process (ASGI): no 5xx, no schema violations.

Every operation is fuzzed with schema-valid and schema-invalid inputs (bounded examples so
the test stays fast). schemathesis' pytest plugin (``from_fixture``) does not run on
pytest 9, so the operations' hypothesis strategies are driven directly.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import create_app

API_KEY = "test-key-0123456789abcdef"  # the synthetic city's key (conftest.API_KEY)
# Schema-valid but semantically impossible requests are rightly refused with 422: a
# coordinate pair that is valid WGS-84 but far from the city's streets (the network area is
# not a rectangle the schema could state). Every other check runs, 5xx and schema checks
# included.
EXCLUDED = [positive_data_acceptance]
NO_INPUT = {"GET /healthz", "GET /readyz", "GET /plan/summary", "GET /collections"}


@pytest.fixture(scope="module")
def api_schema(state, settings):
    # The fuzzer checks the schema, not the abuse limits (tests/api/test_roles.py does): a
    # 429 before the key check would read as a missing 401.
    roomy = settings.model_copy(update={"rate_burst": 1_000_000})
    app = create_app(state, settings=roomy)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


RUNS = [
    pytest.param(True, GenerationMode.POSITIVE, 25, id="key-positive"),
    pytest.param(True, GenerationMode.NEGATIVE, 10, id="key-negative"),
    # Without a key: writes must answer 401 (documented), reads as usual.
    pytest.param(False, GenerationMode.POSITIVE, 8, id="no-key-positive"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("auth", "mode", "examples"), RUNS)
def test_api_conforms_to_its_schema(api_schema, auth, mode, examples):
    headers = {"Authorization": f"Bearer {API_KEY}"} if auth else None
    operations = _operations(api_schema)
    assert len(operations) >= 10
    unsatisfiable: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

        try:
            run()
        except Unsatisfiable:
            # No invalid input exists for an operation without parameters or body.
            assert mode is GenerationMode.NEGATIVE, operation.label
            unsatisfiable.append(operation.label)
    assert set(unsatisfiable) <= NO_INPUT, unsatisfiable
