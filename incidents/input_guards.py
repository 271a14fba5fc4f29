"""Input no schema gets to see safely: numbers too long for Python to parse, control characters
in the query string or the path, and digits that are not ASCII (docs/errors.md).

Each of these reached a conversion or the database as a 500: a JSON number of 5,000 digits made
the JSON parser raise ValueError, a NUL in a query parameter reached PostgreSQL (which cannot
store it), and ``int("²")`` raised where ``"²".isdigit()`` had said yes.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from flask import request
from werkzeug.routing import IntegerConverter

from incidents.extensions import problem_response

# No number of this API has more digits than this (ids have 10, counts fewer); Python refuses
# to parse more than 4,300 at all.
MAX_INTEGER_DIGITS = 30
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class TooManyDigits:
    """Stands in for a JSON integer too long to be one of ours, so its field can be named."""

    def __init__(self, text: str):
        self.digits = len(text.lstrip("-"))


def _parse_int(text: str) -> int | TooManyDigits:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        return TooManyDigits(text)
    return int(text)


def load_json(data: bytes | str) -> Any:
    """json.loads, with integers longer than MAX_INTEGER_DIGITS as TooManyDigits markers."""
    return json.loads(data, parse_int=_parse_int)


# Where the request guard (incidents/__init__.py) leaves the body it parsed, for the schema's
# parser (api/base.py) and the Idempotency-Key's hash: a body is parsed once per request.
PARSED_BODY = "incidents.parsed_json_body"


def keep_parsed_body(data: bytes, body: Any) -> None:
    """Keep a body the guard parsed and let through, if it is UTF-8: the schema's parser would
    refuse other encodings (400), which json.loads on bytes would have read."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return
    request.environ[PARSED_BODY] = body


NOT_PARSED = object()


def parsed_body() -> Any:
    """The body as the guard parsed it, or NOT_PARSED where it did not (no body, not JSON)."""
    return request.environ.get(PARSED_BODY, NOT_PARSED)


def integer_error() -> str:
    return f"must be a whole number of at most {MAX_INTEGER_DIGITS} digits"


def control_characters_in_query(args) -> dict[str, list[str]]:
    """Query parameters (names or values) holding a control character, by name."""
    errors: dict[str, list[str]] = {}
    for name, value in args.items(multi=True):
        if CONTROL_CHARACTERS.search(name) or CONTROL_CHARACTERS.search(value):
            errors[CONTROL_CHARACTERS.sub("?", name) or "?"] = [
                "must not contain control characters"]
    return errors


def refuse_control_characters():
    """An API request with a control character in a path parameter names nothing (404); in a
    query parameter it is bad input (422 naming the parameter), as in any other text."""
    if not request.path.startswith("/api/"):
        return None
    if any(isinstance(value, str) and CONTROL_CHARACTERS.search(value)
           for value in (request.view_args or {}).values()):
        return problem_response(404, "There is nothing at this path.")
    errors = control_characters_in_query(request.args)
    if errors:
        return problem_response(422, f"Invalid input in: {', '.join(sorted(errors))}",
                                errors=errors)
    return None


class AsciiIntegerConverter(IntegerConverter):
    """``<int:…>`` in a route matches ASCII digits only: werkzeug's ``\\d+`` also matched
    "١" (Arabic-Indic one), which int() then read as incident 1."""

    regex = r"[0-9]+"


def buffer_unsized_body(limit: int) -> bool:
    """A body sent without Content-Length (Transfer-Encoding: chunked) read here, up to one
    byte past ``limit``: False if it is larger. Werkzeug would cut such a body at the limit
    without a word, so a 10 MB body was read as its first megabyte (a 400 for JSON cut short,
    or worse, accepted when the rest was spaces) instead of a 413. A body within the limit is
    put back, with its length, for the schema to read."""
    environ = request.environ
    if not request.headers.get("Transfer-Encoding"):
        return True
    data = environ["wsgi.input"].read(limit + 1)
    if len(data) > limit:
        return False
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return True
