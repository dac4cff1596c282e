"""Keyed pseudonyms of the customers' numbers: what analysts see instead of ``client_number``.

A pseudonym is ``c_`` and the first 20 hex digits (80 bits) of HMAC-SHA256 of the E.164 number under the
pseudonym key: the same number always gets the same pseudonym (analysts can count and join a customer's
orders), and without the key nobody can compute one from a number, nor try the ~10⁹ numbers of a country.
The key never enters the database: it is ``CALLAUDIT_PSEUDONYM_KEY``, else derived from the vault key
(HMAC of a fixed label), so rotating the vault key without a pseudonym key changes every pseudonym.

Before each dbt build the pipeline writes the pseudonym of every client number of the manifests to
``vault.client_pseudonyms`` (readable by the pipeline only); rows under another key (``key_id``, the key's
fingerprint) are recomputed. dbt joins it into ``int_orders_deduplicated``, and the marts expose
``client_pseudonym``, never the number.
"""

from __future__ import annotations

import hashlib
import hmac

import psycopg

from flows.config import Settings
from warehouse.db import copy_rows
from warehouse.vault import decode_key, fingerprint, open_vault

LABEL = b"callaudit client_number pseudonym v1"
PREFIX = "c_"
HEX_DIGITS = 20


def pseudonym_key(settings: Settings, database_url: str) -> bytes:
    """``CALLAUDIT_PSEUDONYM_KEY``, else a key derived from the vault's (checked against the vault's rows)."""
    if settings.pseudonym_key:
        return decode_key(settings.pseudonym_key.get_secret_value(), "CALLAUDIT_PSEUDONYM_KEY")
    vault = open_vault(database_url, settings)
    return hmac.new(vault.key, LABEL, hashlib.sha256).digest()


def pseudonym(key: bytes, client_number: str) -> str:
    """The pseudonym of one E.164 number under ``key``."""
    digest = hmac.new(key, client_number.encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:HEX_DIGITS]


def refresh_pseudonyms(database_url: str, settings: Settings) -> int:
    """Give every client number of ``raw.manifest_rows`` its pseudonym under the current key; rows made
    under another key are replaced. Returns the rows written."""
    key = pseudonym_key(settings, database_url)
    key_id = fingerprint(key)
    with psycopg.connect(database_url) as conn:
        conn.execute("lock table vault.client_pseudonyms in share row exclusive mode")
        conn.execute("delete from vault.client_pseudonyms where key_id <> %s", [key_id])
        numbers = [
            r[0]
            for r in conn.execute(
                """select distinct m.client_number from raw.manifest_rows m
                   where not exists (select 1 from vault.client_pseudonyms p
                                     where p.client_number = m.client_number)"""
            )
        ]
        rows = [(n, pseudonym(key, n), key_id) for n in numbers]
        copy_rows(conn, "vault.client_pseudonyms", ("client_number", "pseudonym", "key_id"), rows)
    return len(rows)
