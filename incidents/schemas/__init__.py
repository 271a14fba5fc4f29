"""marshmallow schemas, mirroring models/: create, update, output and query-argument schemas."""
