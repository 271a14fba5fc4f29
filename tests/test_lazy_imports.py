"""What a worker that serves requests imports: none of the migration tooling, and no OpenID
Connect client until someone signs in.

Flask-Migrate brings alembic, mako and pygments (about 11 MB per process, docs/performance.md);
only the `flask db` commands and callers of Flask-Migrate's functions need them
(incidents.extensions.defer_migrate), and readiness reads the migrations' heads from their files
(services/health.py, read_revisions). Authlib, with requests, is about 8 MB more; only a sign-in
that talks to the provider needs it (web/signin.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.reliability.service import ROOT, environment, prepare

MIGRATION_TOOLING = ("flask_migrate", "alembic", "mako", "pygments", "authlib")

# A fresh interpreter: the serving entry (gunicorn's wsgi:app), then a create, a read of it, a
# list and readiness through the test client, as a worker would serve them.
SERVE = """
import json, sys
import wsgi
reporter, hr, unit_id, watched = json.loads(sys.argv[1])
client = wsgi.app.test_client()
created = client.post("/api/v1/incidents", headers={"Authorization": "Bearer " + reporter}, json={
    "category": "threat", "perceived_influence_purpose": "yes",
    "occurred_at": "2026-03-01T10:00:00+01:00", "unit_id": unit_id,
    "description": "Klienten sa att han vet var jag bor.", "location": "reception",
    "perpetrator": "client"})
as_hr = {"Authorization": "Bearer " + hr}
answers = [
    created.status_code,
    client.get(f"/api/v1/incidents/{created.get_json()['id']}", headers=as_hr).status_code,
    client.get("/api/v1/incidents?limit=5", headers=as_hr).status_code,
    client.get("/api/v1/health/ready").status_code,
]
print(json.dumps({"answers": answers,
                  "loaded": sorted(name for name in watched if name in sys.modules)}))
"""


def test_a_serving_process_imports_no_migration_tooling(own_database):
    env = environment(own_database)
    seed = prepare(env)  # `flask db upgrade` and an organisation with tokens
    reporter = seed["reporters"][0]
    done = subprocess.run(
        [sys.executable, "-c", SERVE, json.dumps([reporter["token"], seed["hr"],
                                                  reporter["unit_id"], MIGRATION_TOOLING])],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["answers"] == [201, 200, 200, 200]
    assert result["loaded"] == []


def test_the_db_commands_bind_flask_migrate_as_before(app):
    """`flask db` binds Flask-Migrate when it runs, with the migrations directory and the
    options it always had (the test above runs `flask db upgrade` in a process of its own)."""
    from flask_migrate.cli import db as flask_migrate_commands

    from incidents import create_app

    fresh = create_app({"TESTING": True})
    directory = str(Path(ROOT) / "migrations")
    assert fresh.extensions["migrate"].directory == directory  # known, not bound
    assert fresh.cli.commands["db"] is not flask_migrate_commands

    result = fresh.test_cli_runner().invoke(args=["db", "heads"])

    assert result.exit_code == 0, result.output
    entry = fresh.extensions["migrate"]
    assert fresh.cli.commands["db"] is flask_migrate_commands
    assert (entry.directory, entry.configure_args) == (
        directory, {"compare_type": True, "render_as_batch": True})
