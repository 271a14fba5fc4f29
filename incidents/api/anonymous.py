"""/api/v1/anonymous-reports — reporting without an account, and the receipt-code thread.

No view here reads the caller's identity: a bearer token sent along is ignored, and no
Idempotency-Key is kept (its record would tie the answer, receipt code and all, to the caller).
What the reporter sends is checked at once and reaches the case handlers at the next full hour
(services/anonymous.py).
"""

from __future__ import annotations

from flask import current_app, request

from incidents.api.base import Blueprint, UnlinkableView, documents_errors
from incidents.extensions import limiter
from incidents.schemas.messaging import (
    AnonymousReceiptSchema,
    AnonymousReportCreateSchema,
    AnonymousReportSchema,
    AnonymousThreadMessageSchema,
    MessageCreateSchema,
)
from incidents.services import anonymous

blp = Blueprint(
    "anonymous",
    __name__,
    description="Anonymous reports: no account, no address stored; a receipt code instead",
)

REPORT = "/anonymous-reports/<string:reference>"


def _report_limit() -> str:
    return current_app.config["ANONYMOUS_REPORT_RATE_LIMIT"]


def _receipt_limit() -> str:
    return current_app.config["ANONYMOUS_READ_RATE_LIMIT"]


def _served(response) -> bool:
    return response.status_code < 400


# Reads and messages with the right code share one budget per client; only answers that
# served a report count, so wrong codes (counted apart, services.anonymous.find) never use up
# the budget of someone behind the same proxy who has the right one. The pages at
# /anonymous/follow use this same limit.
receipt_limit = limiter.shared_limit(_receipt_limit, scope="anonymous-receipt",
                                     deduct_when=_served)
RECEIPT = {"security": [{"receiptCode": []}]}


def _code() -> str | None:
    return request.headers.get(anonymous.HEADER)


@blp.route("/anonymous-reports")
class AnonymousReports(UnlinkableView):
    @limiter.limit(_report_limit)
    @documents_errors(blp, 400, 413, 415, 429)
    @blp.arguments(AnonymousReportCreateSchema)
    @blp.response(201, AnonymousReceiptSchema)
    @blp.doc(security=[])
    def post(self, data):
        """Report an incident anonymously; the answer holds the receipt code, shown only once

        The report is checked now and reaches the case handlers at the next full hour
        (reaches_case_handlers_at), with every other anonymous report of the hour, so that
        nothing shows when within the hour it was sent. Fields that could identify you (who it
        was for, injury, sick leave, a reference in another system) are not accepted here.
        Rate limited per client (429)."""
        report, code = anonymous.report(data)
        reference = report["incident"].reference
        return ({**report, "receipt_code": code}, 201,
                {"Location": f"/api/v1/anonymous-reports/{reference}"})


@blp.route(REPORT)
class AnonymousReport(UnlinkableView):
    @receipt_limit
    @documents_errors(blp, 401, 404, 429)
    @blp.response(200, AnonymousReportSchema)
    @blp.doc(**RECEIPT)
    def get(self, reference):
        """The status of your anonymous report (X-Receipt-Code header)

        Until the next full hour after you sent it, the report is received but not yet with
        the case handlers (published false)."""
        return anonymous.status(reference, _code())


@blp.route(f"{REPORT}/messages")
class AnonymousMessages(UnlinkableView):
    @receipt_limit
    @documents_errors(blp, 401, 404, 429)
    @blp.response(200, AnonymousThreadMessageSchema(many=True))
    @blp.doc(**RECEIPT)
    def get(self, reference):
        """The messages between you and the case handlers, oldest first

        Your own messages that wait for the next full hour come last (published false)."""
        return anonymous.list_messages(reference, _code())

    @receipt_limit
    @documents_errors(blp, 400, 401, 404, 413, 415, 429)
    @blp.arguments(MessageCreateSchema)
    @blp.response(201, AnonymousThreadMessageSchema)
    @blp.doc(**RECEIPT)
    def post(self, data, reference):
        """Write to the case handlers; you are not asked who you are

        The message reaches them, and they are told by mail, at the next full hour."""
        return anonymous.post_message(reference, _code(), data["body"]), 201
