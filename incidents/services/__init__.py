"""Business rules. Services check, change (flush, never commit) and return, or raise a
DomainError; the request boundary (incidents.api.base.unit_of_work) commits or rolls back."""
