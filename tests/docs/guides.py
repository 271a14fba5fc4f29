"""Reading a guide's examples and running them: a small parser for the Markdown and a small
shell that understands what the guides use.

A guide is read as a stream of events in document order:

- a clock comment, ``<!-- clock: 2026-11-23T18:30:00+01:00 -->``: the frozen clock moves to
  that instant (never back);
- a run-first comment, ``<!-- run first: getting-started.md sections 2-4 -->``: the commands of
  those numbered sections of another guide run here, their shown answers unchecked;
- a ```sh block: its commands, and the answer shown right after it (only blank lines between),
  which belongs to the block's last command. An answer is a plain block (``` or ```text: the
  status line and headers of ``curl -i``, or a command's printed output), a ```json block (the
  body), or a plain block followed by a ```json block.

The shell knows ``VAR=value``, ``export VAR=value``, ``VAR=$(command)``, ``$VAR`` and ``${VAR}``
(not inside single quotes), single and double quotes, backslash line continuations, quotes
spanning lines, ``# comments``, ``curl`` and ``flask --app wsgi``. Anything else (a pipe, another
program) is not runnable: such a command must be on the test's skip list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FENCE = re.compile(r"^(\s*)```([\w-]*)\s*$")
CLOCK = re.compile(r"<!--\s*clock:\s*(\S+)\s*-->")
RUN_FIRST = re.compile(r"<!--\s*run first:\s*(\S+)\s+sections\s+(\d+)-(\d+)\s*-->")
TODAY = re.compile(r"dated\s+as\s+if\s+today\s+were\s+(\d{4}-\d{2}-\d{2})")
SECTION = re.compile(r"^## (\d+)\. ")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
SUBSTITUTION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=\$\((.*)\)$", re.S)
FLASK = (".venv/bin/flask", "flask")


class NotRunnable(Exception):
    """The shell does not understand the command."""


@dataclass
class Block:
    lang: str
    text: str
    line: int  # of the opening fence, 1-based
    end: int  # of the closing fence


@dataclass
class Answer:
    head: Block | None = None  # status line and headers, or printed output
    body: Block | None = None  # JSON


@dataclass
class Command:
    guide: str
    line: int
    source: str  # comments removed, continuations joined
    answer: Answer | None = None
    section: int | None = None

    @property
    def where(self) -> str:
        return f"{self.guide}:{self.line}"

    @property
    def normalised(self) -> str:
        return " ".join(self.source.split())


@dataclass
class Clock:
    at: datetime
    line: int


@dataclass
class RunFirst:
    guide: str
    first: int
    last: int
    line: int


@dataclass
class Guide:
    name: str  # relative to the repository, e.g. docs/manager-guide.md
    today: str | None
    events: list = field(default_factory=list)

    @property
    def commands(self) -> list[Command]:
        return [event for event in self.events if isinstance(event, Command)]


def _blocks(lines: list[str]) -> list[Block]:
    blocks, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(match.group(1)):])
            i += 1
        blocks.append(Block(match.group(2), "\n".join(body), start + 1, i + 1))
        i += 1
    return blocks


def _next_block(blocks: list[Block], lines: list[str], after: Block) -> Block | None:
    """The block that starts after `after` with only blank lines between, if any."""
    for block in blocks:
        if block.line > after.end:
            between = lines[after.end:block.line - 1]
            return block if all(not text.strip() for text in between) else None
    return None


def parse(name: str) -> Guide:
    text = (ROOT / name).read_text(encoding="utf-8")
    lines = text.split("\n")
    today = TODAY.search(text)
    guide = Guide(name, today.group(1) if today else None)
    blocks = _blocks(lines)
    inside = {n for block in blocks for n in range(block.line, block.end + 1)}
    events: list[tuple[int, object]] = []
    for number, line in enumerate(lines, start=1):
        if number in inside:
            continue
        for match in CLOCK.finditer(line):
            events.append((number, Clock(datetime.fromisoformat(match.group(1)), number)))
        for match in RUN_FIRST.finditer(line):
            events.append((number, RunFirst(match.group(1), int(match.group(2)),
                                            int(match.group(3)), number)))
    for block in blocks:
        if block.lang != "sh":
            continue
        commands = split_commands(block.text, name, block.line + 1)
        section = _section_of(lines, block.line)
        for command in commands:
            command.section = section
        first = _next_block(blocks, lines, block)
        if commands and first is not None and first.lang in ("", "text", "json"):
            answer = Answer()
            if first.lang == "json":
                answer.body = first
            else:
                answer.head = first
                second = _next_block(blocks, lines, first)
                if second is not None and second.lang == "json":
                    answer.body = second
            commands[-1].answer = answer
        events.extend((command.line, command) for command in commands)
    guide.events = [event for _, event in sorted(events, key=lambda pair: pair[0])]
    return guide


def _section_of(lines: list[str], line: int) -> int | None:
    for text in reversed(lines[:line - 1]):
        if text.startswith("## "):
            heading = SECTION.match(text)
            return int(heading.group(1)) if heading else None
    return None


def _scan(line: str, quote: str | None) -> tuple[str, str | None]:
    """One line of a command: the line without its ``# comment``, and the quote still open at
    its end (None, ' or ")."""
    kept, i = "", 0
    while i < len(line):
        char = line[i]
        if quote is None and char == "#" and (not kept or kept[-1].isspace()):
            break
        if quote is None and char in "'\"":
            quote = char
        elif char == quote and not (quote == '"' and line[i - 1] == "\\"):
            quote = None
        elif quote != "'" and char == "\\":
            kept += line[i:i + 2]
            i += 2
            continue
        kept += char
        i += 1
    return (kept.rstrip() if quote is None else kept), quote


def split_commands(text: str, guide: str, first_line: int) -> list[Command]:
    """The commands of a ```sh block: a newline ends a command unless it is inside quotes or
    escaped by a backslash; ``#`` at the start of a word comments out the rest of the line."""
    commands: list[Command] = []
    current, quote, start = "", None, None
    for number, raw in enumerate(text.split("\n"), start=first_line):
        kept, quote = _scan(raw, quote)
        if start is None and not kept.strip():
            continue
        start = start or number
        if quote is None and kept.endswith("\\"):
            current += kept[:-1] + " "
        elif quote is not None:
            current += kept + "\n"
        else:
            commands.append(Command(guide, start, (current + kept).strip()))
            current, start = "", None
    if start is not None:
        raise NotRunnable(f"{guide}:{start}: a quote or a line continuation is not closed")
    return commands


def _variable(source: str, i: int, env: dict[str, str]) -> tuple[str, int]:
    """Expand the `$…` at source[i]; return its value and the index after it."""
    if source.startswith("${", i):
        end = source.index("}", i)
        name, after = source[i + 2:end], end + 1
    else:
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(source, i + 1)
        if match is None:
            raise NotRunnable(f"cannot expand {source[i:i + 10]!r}")
        name, after = match.group(0), match.end()
    if name not in env:
        raise NotRunnable(f"${name} is not set")
    return env[name], after


def _double_quoted(source: str, i: int, env: dict[str, str]) -> tuple[str, int]:
    """The text of the double-quoted string that starts at source[i], expanded; and the index
    after its closing quote."""
    text, i = "", i + 1
    while source[i] != '"':
        if source[i] == "\\" and source[i + 1] in '"\\$`':
            text += source[i + 1]
            i += 2
        elif source[i] == "$":
            value, i = _variable(source, i, env)
            text += value
        else:
            text += source[i]
            i += 1
    return text, i + 1


def words(source: str, env: dict[str, str]) -> list[str]:
    """Split a command into words as a POSIX shell would, expanding variables outside single
    quotes. An expanded value is not split again (the guides' values have no spaces)."""
    result: list[str] = []
    current: str | None = None
    i = 0
    while i < len(source):
        char = source[i]
        if char.isspace():
            if current is not None:
                result.append(current)
            current, i = None, i + 1
            continue
        current = current or ""
        if char == "'":
            end = source.index("'", i + 1)
            current, i = current + source[i + 1:end], end + 1
        elif char == '"':
            text, i = _double_quoted(source, i, env)
            current += text
        elif char == "\\":
            current, i = current + source[i + 1], i + 2
        elif char == "$" and source.startswith("$(", i):
            raise NotRunnable("command substitution is only understood as VAR=$(command)")
        elif char == "$":
            value, i = _variable(source, i, env)
            current += value
        elif char in "|;&<>`":
            raise NotRunnable(f"the shell operator {char!r}")
        else:
            current, i = current + char, i + 1
    if current is not None:
        result.append(current)
    return result


def kind(command: Command) -> str:
    """What the shell makes of a command without running it: `assign`, `curl`, `flask`, or
    `unknown`."""
    source = command.source
    if source.startswith("export "):
        source = source[len("export "):]
    substitution = SUBSTITUTION.match(source)
    if substitution:
        return kind(Command(command.guide, command.line, substitution.group(2)))
    if ASSIGNMENT.match(source) and len(source.split()) == 1:
        return "assign"
    first = source.split()[0]
    if first == "curl":
        return "curl"
    if first in FLASK and source.split()[1:3] == ["--app", "wsgi"]:
        return "flask"
    return "unknown"
