"""The PII vault: each call's tokens ([PERSON_1] …) mapped to the values they replace, encrypted.

Values are encrypted with AES-256-GCM under a key from the environment (``CALLAUDIT_VAULT_KEY``, 32 bytes
in base64; ``callaudit vault new-key`` prints one). The row's (sha256, token) is the associated data, so a
ciphertext copied to another row does not decrypt. A keyed HMAC of the value lets the pipeline find a
value it has seen without decrypting anything. Only the pipeline role can read ``vault``.

Without a key in the environment the embedded demo makes one in ``<state_dir>/vault.key`` (mode 0600) and
says so; a production deployment sets the variable (from a secret store) instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flows.config import Settings

log = logging.getLogger(__name__)
VAULT_COLUMNS = ("sha256", "token", "entity_type", "value_hmac", "value_encrypted", "key_id")


class VaultKeyError(RuntimeError):
    """The configured vault key cannot be used."""


def new_key() -> str:
    """A fresh key, base64-encoded, for ``CALLAUDIT_VAULT_KEY``."""
    return base64.b64encode(os.urandom(32)).decode()


def _decode(text: str, origin: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise VaultKeyError(
            f"{origin} is not base64 ({exc}); make one with: callaudit vault new-key"
        ) from exc
    if len(key) != 32:
        raise VaultKeyError(
            f"{origin} decodes to {len(key)} bytes, not 32; make one with: callaudit vault new-key"
        )
    return key


def vault_key(settings: Settings) -> bytes:
    """The key from ``CALLAUDIT_VAULT_KEY``, else the demo key file in the state directory (made once)."""
    if settings.vault_key:
        return _decode(settings.vault_key.get_secret_value(), "CALLAUDIT_VAULT_KEY")
    path: Path = settings.state_dir / "vault.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key() + "\n")
        log.warning(
            "no CALLAUDIT_VAULT_KEY set: made a demo vault key in %s (set the variable in production)", path
        )
    return _decode(path.read_text(), str(path))


@dataclass(frozen=True)
class Vault:
    key: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.key).hexdigest()[:12]

    def value_hmac(self, value: str) -> str:
        return hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, sha256: str, token: str, value: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.key).encrypt(nonce, value.encode(), f"{sha256}|{token}".encode())

    def decrypt(self, sha256: str, token: str, blob: bytes) -> str:
        nonce, body = bytes(blob[:12]), bytes(blob[12:])
        return AESGCM(self.key).decrypt(nonce, body, f"{sha256}|{token}".encode()).decode()

    def rows(self, sha256: str, entities: dict[str, tuple[str, str]]) -> list[tuple]:
        """Vault rows for ``{token: (entity_type, value)}`` of one recording."""
        return [
            (sha256, token, kind, self.value_hmac(value), self.encrypt(sha256, token, value), self.key_id)
            for token, (kind, value) in sorted(entities.items())
        ]

    def mapping(self, conn: psycopg.Connection, sha256: str) -> dict[str, str]:
        """``{token: value}`` of one recording, decrypted (pipeline role only)."""
        rows = conn.execute(
            "select token, value_encrypted from vault.pii_tokens where sha256 = %s", [sha256]
        ).fetchall()
        return {token: self.decrypt(sha256, token, blob) for token, blob in rows}


def store(conn: psycopg.Connection, rows: list[tuple]) -> None:
    """Insert vault rows; a token already stored for the recording keeps its first value."""
    if rows:
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into vault.pii_tokens ({', '.join(VAULT_COLUMNS)}) values (%s, %s, %s, %s, %s, %s) "
                "on conflict (sha256, token) do nothing",
                rows,
            )
