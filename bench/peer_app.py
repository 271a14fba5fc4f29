"""The plain peer for the API benchmark: what a team writes in an afternoon with Flask-SQLAlchemy
and marshmallow, the obvious way (docs/performance.md). One table of incidents; create one row
with a durable commit, read one by id, list the newest 50. No authentication, audit, outbox or
reference numbers: it measures what the service's rules cost on top of the same stack.

Served by the same gunicorn settings as the service; PEER_DATABASE_URL names its database
(bench/api.py makes it and seeds it with ``flask --app bench.peer_app seed``).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import click
import marshmallow as ma
from flask import Flask, abort, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class PeerIncident(db.Model):
    __tablename__ = "peer_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(20), nullable=False)
    perceived_influence_purpose: Mapped[str] = mapped_column(String(10), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    unit_id: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    location: Mapped[str | None] = mapped_column(String(20))
    perpetrator: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=lambda: datetime.now(UTC))


class PeerIncidentSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    category = ma.fields.String(required=True, validate=ma.validate.Length(max=20))
    perceived_influence_purpose = ma.fields.String(required=True)
    occurred_at = ma.fields.AwareDateTime(required=True)
    unit_id = ma.fields.Integer(required=True)
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    location = ma.fields.String(load_default=None)
    perpetrator = ma.fields.String(load_default=None)
    created_at = ma.fields.AwareDateTime(dump_only=True)


one = PeerIncidentSchema()
many = PeerIncidentSchema(many=True)

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
    "PEER_DATABASE_URL", "postgresql+psycopg://127.0.0.1:5432/bench_peer")
db.init_app(app)


@app.post("/api/v1/incidents")
def create():
    try:
        data = one.load(request.get_json())
    except ma.ValidationError as error:
        return {"errors": error.messages}, 422
    incident = PeerIncident(**data)
    db.session.add(incident)
    db.session.commit()
    return one.dump(incident), 201


@app.get("/api/v1/incidents/<int:incident_id>")
def read(incident_id: int):
    incident = db.session.get(PeerIncident, incident_id)
    if incident is None:
        abort(404)
    return one.dump(incident)


@app.get("/api/v1/incidents")
def listing():
    rows = db.session.scalars(
        select(PeerIncident).order_by(PeerIncident.id.desc()).limit(50)).all()
    return {"items": many.dump(rows)}


@app.cli.command("seed")
@click.argument("count", type=int)
def seed(count: int) -> None:
    """Make the table and fill it with ``count`` incidents."""
    db.create_all()
    now = datetime.now(UTC)
    db.session.execute(PeerIncident.__table__.insert(), [
        {"category": "threat", "perceived_influence_purpose": "yes",
         "occurred_at": now - timedelta(minutes=i), "unit_id": 1 + i % 500,
         "description": "Klienten sa att han vet var jag bor.", "location": "reception",
         "perpetrator": "client", "created_at": now}
        for i in range(count)])
    db.session.commit()
