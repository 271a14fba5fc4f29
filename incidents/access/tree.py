"""The unit tree, the one place that walks it: in SQL (``subtree``) for queries, and in memory
(``UnitTree``) where a request needs the shape of the tree (statistics rows per sub-unit).

A unit reaches its sub-units: a manager leading a unit, a survey or a workshop for a unit, and a
statistics request for a unit all cover everything below it (docs/roles-and-access.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import ARRAY, Integer, String, any_, bindparam, cast, exists, select
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from incidents.extensions import db
from incidents.models import Unit, subtree_ids_query


def subtree(root_ids) -> Select:
    """The ids of the given units and every unit below them, as a selectable for ``in_``.

    For a list of ids the selectable is made once per process and set of ids: it is SQL, not
    data (the units are read when it runs), and building it cost more than running it."""
    if isinstance(root_ids, list | tuple | set | frozenset) and all(
            isinstance(unit_id, int) for unit_id in root_ids):
        return _subtree_of(tuple(sorted(set(root_ids))))
    return subtree_ids_query(root_ids)


@lru_cache(maxsize=4096)
def _subtree_of(root_ids: tuple[int, ...]) -> Select:
    return subtree_ids_query(list(root_ids))


def one_of(column, unit_ids: list[int]) -> ColumnElement[bool]:
    """``column`` holds one of these unit ids, with the ids as constants in the statement, so
    that the database plans with them (how many, and which). On PostgreSQL one array literal:
    as bound parameters, or as literals one by one, 500 ids cost more in Python than the
    query in the database (docs/performance.md)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(bindparam(None, unit_ids, expanding=True, literal_execute=True))
    array = "{" + ",".join(str(int(unit_id)) for unit_id in unit_ids) + "}"
    return column == any_(cast(bindparam(None, array, type_=String, literal_execute=True),
                               ARRAY(Integer)))


def unit_within(unit_id: int | None, root_ids: Iterable[int]) -> bool:
    """Whether the unit is one of ``root_ids`` or below one of them (one query)."""
    roots = list(root_ids)
    if unit_id is None or not roots:
        return False
    inside = exists().where(Unit.id == unit_id, Unit.id.in_(subtree(roots)))
    return bool(db.session.scalar(select(inside)))


def roots_of(unit_ids: Iterable[int]) -> dict[int, int]:
    """Each unit → its organisation (root), in one query (no whole-tree load: the hot paths
    ask it); a unit that does not exist is left out."""
    starts = sorted(set(unit_ids))
    if not starts:
        return {}
    rows = db.session.execute(_roots_query(), {"root_starts": starts})
    return {row.start: row.id for row in rows}


@lru_cache(maxsize=1)
def _roots_query() -> Select:
    """``roots_of``'s statement, made once per process (the units are bound per call)."""
    up = select(Unit.id.label("start"), Unit.id, Unit.parent_id).where(
        Unit.id.in_(bindparam("root_starts", expanding=True))).cte(recursive=True)
    up = up.union_all(select(up.c.start, Unit.id, Unit.parent_id).where(
        Unit.id == up.c.parent_id))
    return select(up.c.start, up.c.id).where(up.c.parent_id.is_(None))


@dataclass
class UnitTree:
    """Every unit's parent, name and children, loaded in one query."""

    parent: dict[int, int | None]
    name: dict[int, str]
    children: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> UnitTree:
        rows = db.session.execute(select(Unit.id, Unit.parent_id, Unit.name)).all()
        tree = cls(parent={r.id: r.parent_id for r in rows}, name={r.id: r.name for r in rows})
        for unit_id, parent_id in tree.parent.items():
            tree.children.setdefault(unit_id, [])
            if parent_id is not None:
                tree.children.setdefault(parent_id, []).append(unit_id)
        return tree

    @property
    def roots(self) -> list[int]:
        return sorted(u for u, parent in self.parent.items() if parent is None)

    def subtree(self, unit_id: int) -> list[int]:
        found, stack = [], [unit_id]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(self.children.get(current, []))
        return found

    def is_within(self, unit_id: int, ancestors: set[int]) -> bool:
        seen: set[int] = set()
        current: int | None = unit_id
        while current is not None and current not in seen:
            if current in ancestors:
                return True
            seen.add(current)
            current = self.parent.get(current)
        return False

    def root_of(self, unit_id: int) -> int:
        """The organisation (root) a unit belongs to."""
        seen: set[int] = set()
        current = unit_id
        while self.parent.get(current) is not None and current not in seen:
            seen.add(current)
            current = self.parent[current]
        return current

    def tops(self, unit_ids: set[int]) -> list[int]:
        """The top-most of the units: one under another of them is already inside it."""
        return sorted(u for u in unit_ids
                      if not self.is_within(self.parent.get(u) or -1, unit_ids))
