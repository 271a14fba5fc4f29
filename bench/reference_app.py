"""The reference for the API benchmark: a bare Flask JSON endpoint, served by the same gunicorn
with the same settings as the service, so the ratio measures what the service itself costs."""

from flask import Flask

app = Flask(__name__)


@app.get("/api/v1/reference")
def reference():
    return {"status": "ok", "id": 1}
