"""Seed a reliability test's own database and print what its clients need, as JSON:

    python -m tests.reliability.seed  →  {"reporters": [{"token", "unit_id"}, ...], "hr": token}
"""

from __future__ import annotations

import json

from incidents import create_app
from incidents.auth import issue_local_token
from incidents.extensions import db
from tests.factories import Factory, build_org


def main() -> None:
    app = create_app()
    with app.app_context():
        org = build_org(Factory(app, db.session))
        db.session.commit()
        reporters = [
            {"token": issue_local_token(user, 24), "unit_id": unit.id}
            for user, unit in ((org.employee_a1, org.a1), (org.colleague_a1, org.a1),
                               (org.employee_b1, org.b1))
        ]
        print(json.dumps({"reporters": reporters, "hr": issue_local_token(org.hr, 24)}))


if __name__ == "__main__":
    main()
