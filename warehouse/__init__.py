"""The warehouse: where the PostgreSQL database is, getting it ready, and what guards what goes into it.

- ``db``: the one decision of which database (``DATABASE_URL`` if set, else the embedded PostgreSQL +
  pgvector in the state folder), the migrations in ``sql/`` applied in order with their checksums
  (``ready_database``), the URL in the forms dbt, GX and SQLAlchemy take (and redacted for printing), and
  the COPY helpers every loader and stage writes with (``copy_rows``, ``write_stage``).
- ``rejects``: quarantine — bad input becomes a row in ``ops.rejects`` with a reason, never an exception
  for the batch.
- ``vault``: the PII vault, each call's redaction tokens mapped to the values they replace, encrypted
  under ``CALLAUDIT_VAULT_KEY`` (key files, fingerprints, rotation).
- ``pseudonyms``: the keyed pseudonyms of the customers' numbers, written to ``vault.client_pseudonyms``
  before each dbt build, so the marts never carry a number.

It reads the settings from ``flows.config`` and nothing else of ``flows`` at import time.
"""
