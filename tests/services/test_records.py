"""Shared case-record rules in incidents/services/records.py."""

from __future__ import annotations

import pytest

from incidents.services import police


def test_a_one_row_state_reads_columns_as_none_before_the_row_and_nothing_else(make, org):
    incident = make.incident(org.employee_a1, org.a1)
    state = police._state(incident)
    assert state.report is None
    assert (state.id, state.version) == (incident.id, 0)
    assert state.decision is None and state.police_reference is None
    with pytest.raises(AttributeError):
        _ = state.no_such_column
