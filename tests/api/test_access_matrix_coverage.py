"""The access matrix covers every endpoint of the API: a route added without a row in one of
the test_access_matrix*.py files fails here, naming it.

Left out: the static files and the API's own description (/api/v1/docs and its Swagger UI
files, /api/v1/openapi.json), which hold no data. GET /api/v1/categories is in:
test_categories_are_public asserts it public.
"""

from __future__ import annotations

import re

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from tests.api import (
    test_access_matrix,
    test_access_matrix_anonymous,
    test_access_matrix_case,
    test_access_matrix_stats,
)

NOT_IN_THE_MATRIX = frozenset({"/static/<path:filename>", "/api/v1/docs", "/api/v1/openapi.json",
                               "/api/v1/docs/assets/<path:filename>"})

#: Every (method, path) some row of the matrix calls.
MATRIX = [
    *test_access_matrix.FOUNDATION_COVERS,
    *test_access_matrix_case.COVERS,
    *test_access_matrix_anonymous.COVERS,
    *test_access_matrix_stats.COVERS,
    # Admins only, scoped to the units they administer: tests/api/test_receipt_handlers.py.
    ("GET", "/api/v1/units/unanswered"),
]


def routes(url_map: Map) -> set[tuple[str, str]]:
    """(method, rule) of every endpoint of the API (the pages have a matrix of their own:
    tests/pages/test_page_access.py)."""
    return {
        (method, rule.rule)
        for rule in url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.rule not in NOT_IN_THE_MATRIX
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def matched(url_map: Map, matrix: list[tuple[str, str]]) -> tuple[set, list]:
    """The routes the matrix's paths reach (its placeholders filled with 1), and the paths that
    reach none."""
    adapter = url_map.bind("localhost")
    reached, stale = set(), []
    for method, template in matrix:
        path = re.sub(r"\{[^}]*\}", "1", template)
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except (NotFound, MethodNotAllowed):
            stale.append(f"{method} {template}")
            continue
        reached.add((method, rule.rule))
    return reached, stale


def uncovered(url_map: Map, matrix: list[tuple[str, str]]) -> list[str]:
    reached, _ = matched(url_map, matrix)
    return [f"{method} {rule}" for method, rule in sorted(routes(url_map) - reached)]


def test_every_endpoint_of_the_api_has_a_row_in_the_access_matrix(app):
    missing = uncovered(app.url_map, MATRIX)

    assert not missing, "endpoints without a row in the access matrix:\n  " + "\n  ".join(missing)


def test_every_row_of_the_access_matrix_calls_an_endpoint_of_the_api(app):
    _, stale = matched(app.url_map, MATRIX)

    assert not stale, "rows that call no endpoint:\n  " + "\n  ".join(stale)


def test_a_new_endpoint_without_a_row_fails_the_guard(app):
    copied = [
        Rule(rule.rule, methods=rule.methods, endpoint=rule.endpoint)
        for rule in app.url_map.iter_rules()
    ]
    url_map = Map([*copied, Rule("/api/v1/incidents/<int:incident_id>/export", methods=["GET"],
                                 endpoint="new")], converters=app.url_map.converters)

    assert uncovered(url_map, MATRIX) == ["GET /api/v1/incidents/<int:incident_id>/export"]
