"""Which part of the organisation a statistics request covers, and its head-counts.

Who may see statistics about which units is the access module's rule (incidents/access: hr
every unit, a manager the units they lead and everything below them, others none;
docs/statistics.md, "Who may see what"). A request names one unit (``unit_id``) or, by default,
takes the top of what the caller may see: the organisation's roots for hr, the units a manager
leads. A unit's figures include its sub-units. Grouped by unit, the rows are the selected unit's
direct sub-units (each with everything below it) and the selected unit itself for incidents
filed directly on it, so the rows never overlap and add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, column, select, text
from sqlalchemy.sql import FromClause

from incidents import access
from incidents.access import UnitTree
from incidents.errors import Forbidden, NotFound, field_error
from incidents.extensions import db
from incidents.models import Headcount, User

__all__ = ["Headcounts", "Selection", "UnitTree", "select_units"]


@dataclass
class Selection:
    """The selected units (disjoint subtrees) and how each unit's incidents map to a row."""

    tree: UnitTree
    unit_ids: list[int]

    @property
    def all_unit_ids(self) -> list[int]:
        return [u for root in self.unit_ids for u in self.tree.subtree(root)]

    def row_units(self) -> dict[int, int]:
        """Each unit in the selection → the row it is counted in when grouped by unit: the
        selected unit's direct sub-unit above it, or the selected unit itself."""
        mapping: dict[int, int] = {}
        for root in self.unit_ids:
            mapping[root] = root
            for child in self.tree.children.get(root, []):
                for unit_id in self.tree.subtree(child):
                    mapping[unit_id] = child
        return mapping

    def row_units_table(self) -> FromClause:
        """``row_units`` as a table a query joins to, with columns ``unit_id`` (every unit of
        the selection) and ``row_unit``: the join keeps the selection's incidents and names
        each one's row, so the database counts per row rather than per unit.

        A VALUES list of integers written into the statement, the same SQL on PostgreSQL and
        SQLite. Bound parameters (two per unit) cost SQLAlchemy about 30 ms of compiling at
        500 units, and PostgreSQL's arrays (``unnest``, two parameters) made it hash the
        incidents rather than the 500 units at 1,000,000 incidents, about 10 % slower
        (docs/performance.md)."""
        pairs = ", ".join(f"({int(unit)}, {int(row)})" for unit, row in self.row_units().items())
        # No unit: one row that joins nothing (NULL equals nothing), not an empty VALUES.
        pairs = pairs or "(CAST(NULL AS INTEGER), CAST(NULL AS INTEGER))"
        statement = ("SELECT column1 AS unit_id, column2 AS row_unit "  # noqa: S608 - int()s only
                     f"FROM (VALUES {pairs}) AS unit_pairs")
        return text(statement).columns(column("unit_id", Integer),
                                       column("row_unit", Integer)).subquery("unit_rows")

    def describe(self) -> list[dict]:
        return [{"unit_id": u, "unit_name": self.tree.name[u]} for u in self.unit_ids]


def select_units(user: User, unit_id: int | None) -> Selection:
    tree = UnitTree.load()
    if unit_id is not None and unit_id not in tree.parent:
        raise NotFound(f"There is no unit {unit_id}.", errors={"unit_id": ["no such unit"]})
    roots = access.statistics_roots(user, tree)
    if not roots:
        raise Forbidden("Statistics are for managers, hr and statistics readers, about the "
                        "units they reach.")
    if unit_id is None:
        if len({tree.root_of(root) for root in roots}) > 1:
            # The statistics of one organisation never include another's units.
            raise field_error("unit_id", "you reach units of several organisations; name the "
                                         "unit (an organisation or a unit in one) to count")
        return Selection(tree, roots)
    if not access.statistics_cover(user, tree, [unit_id]):
        raise Forbidden(
            "You can see statistics only for the units you reach (that you lead, or hold hr or "
            "the statistics reader role for) and the units below them.",
            errors={"unit_id": ["not a unit you reach or one below it"]},
        )
    return Selection(tree, [unit_id])


class Headcounts:
    """Employees per unit and year. A unit's head-count is its own record, which covers its
    sub-units; without one, the sum of its sub-units' head-counts when every sub-unit's is known;
    else unknown (and no rate is given)."""

    def __init__(self, selection: Selection, years: set[int]):
        self.tree = selection.tree
        self.recorded: dict[tuple[int, int], int] = {}
        if years:
            # The selection's units by joining its unit table, not a parameter per unit; each
            # row unpacked as a tuple, not read by name.
            units = selection.row_units_table()
            rows = db.session.execute(
                select(Headcount.unit_id, Headcount.year, Headcount.count)
                .join(units, units.c.unit_id == Headcount.unit_id)
                .where(Headcount.year.in_(sorted(years)))
            ).all()
            self.recorded = {(unit_id, year): count for unit_id, year, count in rows}
        self._known: dict[tuple[int, int], int | None] = {}

    def of(self, unit_id: int, year: int) -> int | None:
        key = (unit_id, year)
        if key not in self._known:
            if key in self.recorded:
                self._known[key] = self.recorded[key]
            else:
                children = self.tree.children.get(unit_id, [])
                parts = [self.of(child, year) for child in children]
                known = bool(children) and all(p is not None for p in parts)
                self._known[key] = sum(parts) if known else None
        return self._known[key]

    def of_all(self, unit_ids: list[int], year: int) -> int | None:
        parts = [self.of(u, year) for u in unit_ids]
        return sum(parts) if parts and all(p is not None for p in parts) else None
