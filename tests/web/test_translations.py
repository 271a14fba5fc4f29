"""The Swedish catalog (incidents/translations/sv) against the page texts: every string the
templates and incidents/web mark for translation has a Swedish text, the committed .mo is the
compiled .po, and every placeholder survives translation. No browser and no database."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "incidents" / "translations"
BABEL_CFG = TRANSLATIONS / "babel.cfg"
PO = TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.mo"

EXTRACT = ("pybabel extract -F incidents/translations/babel.cfg -k _l --no-location "
           "--omit-header -o incidents/translations/messages.pot .")
UPDATE = ("pybabel update -i incidents/translations/messages.pot -d incidents/translations "
          "--no-fuzzy-matching")
COMPILE = "pybabel compile -d incidents/translations"
HOW_TO_FIX = (f"From the repository root run\n  {EXTRACT}\n  {UPDATE}\n"
              f"then translate the new msgids in {PO.relative_to(ROOT)} (and remove any "
              f"'#, fuzzy' flag), and run\n  {COMPILE}")

# %(name)s, %s, %d, %%: the conversions Python's % operator (and Jinja's gettext) fills in.
# No space flag: Swedish writes "50 %", which is text, not a placeholder.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0+\-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale="sv")


def _texts(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A msgid or msgstr as a tuple of its forms (one unless it is a plural)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _key(message: Message) -> tuple[str | None, tuple[str, ...]]:
    return message.context, _texts(message.id)


def _show(message: Message) -> str:
    shown = " / ".join(repr(text) for text in _texts(message.id))
    return f"{shown} (context {message.context!r})" if message.context else shown


def _mapping(catalog: Catalog) -> dict[tuple[str | None, tuple[str, ...]], tuple[str, ...]]:
    """msgid -> msgstr of every message but the header, which is metadata for the translator."""
    return {_key(message): _texts(message.string) for message in catalog if message.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    """The messages of the sources as they are now, extracted as the .pot is made."""
    target = tmp_path_factory.mktemp("translations") / "messages.pot"
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(BABEL_CFG), "-k", "_l", "--no-location",
        "--omit-header", "-o", str(target), str(ROOT),
    ])
    with target.open("rb") as handle:
        catalog = read_po(handle)
    assert any(message.id for message in catalog), (
        f"No messages were extracted with {BABEL_CFG.relative_to(ROOT)}: its paths no longer "
        f"match the sources")
    return catalog


@pytest.fixture(scope="module")
def swedish() -> Catalog:
    assert PO.is_file(), f"{PO.relative_to(ROOT)} is missing. {HOW_TO_FIX}"
    return _read_po(PO)


def test_every_source_message_has_a_swedish_translation(extracted, swedish):
    problems = []
    for message in extracted:
        if not message.id:
            continue
        translated = swedish.get(message.id, message.context)
        if translated is None:
            problems.append(f"{_show(message)}: not in the .po")
        elif translated.fuzzy:
            problems.append(f"{_show(message)}: marked fuzzy")
        elif not all(text.strip() for text in _texts(translated.string) or [""]):
            problems.append(f"{_show(message)}: no Swedish text")
    assert not problems, (
        f"{len(problems)} page text(s) lack a Swedish translation in "
        f"{PO.relative_to(ROOT)}:\n  " + "\n  ".join(problems) + f"\n{HOW_TO_FIX}")


def test_committed_mo_is_the_compiled_po(swedish):
    assert MO.is_file(), f"{MO.relative_to(ROOT)} is missing. Run\n  {COMPILE}"
    compiled = io.BytesIO()
    write_mo(compiled, swedish)
    compiled.seek(0)
    expected = _mapping(read_mo(compiled))
    with MO.open("rb") as handle:
        committed = _mapping(read_mo(handle))

    missing = sorted((key for key in expected if key not in committed), key=str)
    stale = sorted((key for key in committed if key not in expected), key=str)
    changed = sorted((key for key in expected
                      if key in committed and committed[key] != expected[key]), key=str)
    lines = ([f"not in the .mo: {key[1]}" for key in missing]
             + [f"only in the .mo: {key[1]}" for key in stale]
             + [f"different in the .mo: {key[1]}" for key in changed])
    assert not lines, (
        f"{MO.relative_to(ROOT)} is not the compiled {PO.relative_to(ROOT)}:\n  "
        + "\n  ".join(lines) + f"\nRun\n  {COMPILE}")


def test_translations_keep_the_placeholders(swedish):
    problems = []
    for message in swedish:
        if not message.id or not message.string:
            continue
        ids = _texts(message.id)
        for form, text in enumerate(_texts(message.string)):
            if not text:
                continue
            # A plural's first form goes with the singular msgid, the others with the plural.
            wanted = Counter(PLACEHOLDER.findall(ids[min(form, len(ids) - 1)]))
            found = Counter(PLACEHOLDER.findall(text))
            if found != wanted:
                problems.append(f"{_show(message)} -> {text!r}: has {sorted(found.elements())}, "
                                f"the msgid {sorted(wanted.elements())}")
    assert not problems, (
        "Translations whose placeholders differ from the English:\n  " + "\n  ".join(problems))

