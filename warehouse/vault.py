"""The PII vault: each call's tokens ([PERSON_1] …) mapped to the values they replace, encrypted.

Values are encrypted with AES-256-GCM under a key from the environment (``CALLAUDIT_VAULT_KEY``, 32 bytes
in base64; ``callaudit vault new-key`` prints one). The row's (sha256, token) is the associated data, so a
ciphertext copied to another row does not decrypt. A keyed HMAC of the value lets the pipeline find a
value it has seen without decrypting anything. Only the pipeline role can read ``vault``.

Without a key in the environment the embedded demo keeps one in ``<state_dir>/vault.key`` (mode 0600), made
only while the vault is empty; a production deployment sets the variable (from a secret store) instead.
Each row records the fingerprint (``key_id``) of the key that encrypted it: a run whose key is missing or
is not that key stops before it writes anything, with a one-line error naming the expected fingerprint.
``callaudit vault rotate`` re-encrypts every row under a new key in one transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from cryptography.exceptions import InvalidTag
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


def decode_key(text: str, origin: str) -> bytes:
    """A base64 32-byte key (the vault's, the pseudonyms'); a VaultKeyError naming ``origin`` if not."""
    return _decode(text, origin)


def key_file(settings: Settings) -> Path:
    """The demo key file, used when ``CALLAUDIT_VAULT_KEY`` is unset."""
    return settings.state_dir / "vault.key"


def fingerprint(key: bytes) -> str:
    """A key's public name, stored with each row as ``key_id`` (the first 12 hex of its SHA-256)."""
    return hashlib.sha256(key).hexdigest()[:12]


def _configured_key(settings: Settings) -> tuple[bytes | None, str]:
    """The key from ``CALLAUDIT_VAULT_KEY``, else from the key file if it exists (None if not); its origin."""
    if settings.vault_key:
        return _decode(settings.vault_key.get_secret_value(), "CALLAUDIT_VAULT_KEY"), "CALLAUDIT_VAULT_KEY"
    path = key_file(settings)
    if path.exists():
        return _decode(path.read_text(), str(path)), str(path)
    return None, str(path)


def vault_key(settings: Settings) -> bytes:
    """The configured key (``CALLAUDIT_VAULT_KEY``, else the key file); an error when there is none."""
    key, origin = _configured_key(settings)
    if key is None:
        raise VaultKeyError(f"no vault key: CALLAUDIT_VAULT_KEY is unset and {origin} does not exist")
    return key


def _write_key_file(path: Path, text: str) -> None:
    """Create ``path`` holding ``text``, readable by its owner only, complete or not at all: written to a
    private temporary file, then linked to ``path`` (``FileExistsError`` if another process made it first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def stored_key_ids(conn: psycopg.Connection) -> dict[str, int]:
    """``{key_id: rows}`` of the vault."""
    return dict(conn.execute("select key_id, count(*)::int from vault.pii_tokens group by key_id").fetchall())


def _describe(key_ids: dict[str, int]) -> str:
    return ", ".join(f"{kid} ({n} rows)" for kid, n in sorted(key_ids.items()))


def open_vault(database_url: str, settings: Settings) -> Vault:
    """The vault under the configured key, checked against the key that encrypted the stored rows.

    Without a configured key a new demo key file is made only when the vault is empty; with rows present
    it is an error (a new key would leave them unreadable). A key that is not the rows' key is an error
    naming the fingerprint expected."""
    key, origin = _configured_key(settings)
    with psycopg.connect(database_url) as conn:
        key_ids = stored_key_ids(conn)
    if key is None:
        if key_ids:
            raise VaultKeyError(
                f"no vault key: CALLAUDIT_VAULT_KEY is unset and {origin} is missing, but the vault holds "
                f"rows under key {_describe(key_ids)}{_rotation_hint(origin)}; restore that key (a new one "
                "would leave them unreadable)"
            )
        path = Path(origin)
        try:
            _write_key_file(path, new_key())
            log.warning(
                "no CALLAUDIT_VAULT_KEY set: made a demo vault key in %s (set the variable in production)",
                path,
            )
        except FileExistsError:  # another process made it first
            pass
        key = _decode(path.read_text(), origin)
    vault = Vault(key)
    others = {kid: n for kid, n in key_ids.items() if kid != vault.key_id}
    if others:
        raise VaultKeyError(
            f"wrong vault key: {origin} has fingerprint {vault.key_id}, but the vault holds rows under key "
            f"{_describe(others)}{_rotation_hint(key_file(settings))}; set that key (CALLAUDIT_VAULT_KEY or "
            f"{key_file(settings)})"
        )
    return vault


def _rotation_hint(key_path: str | Path) -> str:
    """Where an interrupted ``vault rotate`` left the new key, if it did."""
    pending = Path(f"{key_path}.new")
    return f" ({pending} holds the key of an interrupted rotation)" if pending.exists() else ""


@dataclass(frozen=True)
class Vault:
    key: bytes

    @property
    def key_id(self) -> str:
        return fingerprint(self.key)

    def value_hmac(self, value: str) -> str:
        return hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, sha256: str, token: str, value: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.key).encrypt(nonce, value.encode(), f"{sha256}|{token}".encode())

    def decrypt(self, sha256: str, token: str, blob: bytes, key_id: str | None = None) -> str:
        """The value of one row; a row this key cannot open is a ``VaultKeyError`` naming both keys."""
        nonce, body = bytes(blob[:12]), bytes(blob[12:])
        try:
            return AESGCM(self.key).decrypt(nonce, body, f"{sha256}|{token}".encode()).decode()
        except InvalidTag:
            expected = f"key {key_id}" if key_id else "another key (or was altered)"
            raise VaultKeyError(
                f"vault row {sha256[:12]} {token} does not decrypt under key {self.key_id}: "
                f"it was encrypted under {expected}"
            ) from None

    def rows(self, sha256: str, entities: dict[str, tuple[str, str]]) -> list[tuple]:
        """Vault rows for ``{token: (entity_type, value)}`` of one recording."""
        return [
            (sha256, token, kind, self.value_hmac(value), self.encrypt(sha256, token, value), self.key_id)
            for token, (kind, value) in sorted(entities.items())
        ]

    def mapping(self, conn: psycopg.Connection, sha256: str) -> dict[str, str]:
        """``{token: value}`` of one recording, decrypted (pipeline role only)."""
        rows = conn.execute(
            "select token, value_encrypted, key_id from vault.pii_tokens where sha256 = %s", [sha256]
        ).fetchall()
        return {token: self.decrypt(sha256, token, blob, key_id) for token, blob, key_id in rows}


def store(conn: psycopg.Connection, rows: list[tuple]) -> None:
    """Insert vault rows; a token already stored for the recording keeps its first value."""
    if rows:
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into vault.pii_tokens ({', '.join(VAULT_COLUMNS)}) values (%s, %s, %s, %s, %s, %s) "
                "on conflict (sha256, token) do nothing",
                rows,
            )


@dataclass(frozen=True)
class Rotation:
    rows: int
    old_key_id: str
    new_key_id: str
    key_file: Path | None  # where the new key was written; None: it was handed to ``show_key``


def rotate(database_url: str, settings: Settings, show_key: Callable[[str], None]) -> Rotation:
    """Re-encrypt every vault row (value, HMAC, key_id) under a new key, in one transaction.

    The new key goes where the old one came from: with a key file, it is written beside it
    (``vault.key.new``, 0600) before the commit and moved over it after; with ``CALLAUDIT_VAULT_KEY``
    it is given to ``show_key`` before the commit, for the operator to store. A failure before the
    commit leaves every row under the old key."""
    old = open_vault(database_url, settings)
    text = new_key()
    new = Vault(_decode(text, "the new key"))
    path = None if settings.vault_key else key_file(settings)
    pending = Path(f"{path}.new") if path else None
    if pending is not None:
        pending.unlink(missing_ok=True)
    try:
        with psycopg.connect(database_url) as conn:  # one transaction, committed when the block ends
            conn.execute("lock table vault.pii_tokens in exclusive mode")
            rows = conn.execute(
                "select sha256, token, value_encrypted, key_id from vault.pii_tokens"
            ).fetchall()
            updates = []
            for sha256, token, blob, key_id in rows:
                value = old.decrypt(sha256, token, blob, key_id)
                updates.append(
                    (new.value_hmac(value), new.encrypt(sha256, token, value), new.key_id, sha256, token)
                )
            with conn.cursor() as cur:
                cur.executemany(
                    "update vault.pii_tokens set value_hmac = %s, value_encrypted = %s, key_id = %s "
                    "where sha256 = %s and token = %s",
                    updates,
                )
            if pending is not None:
                _write_key_file(pending, text)
            else:
                show_key(text)
    except BaseException:
        if pending is not None:
            pending.unlink(missing_ok=True)
        raise
    if path is not None and pending is not None:
        os.replace(pending, path)
    return Rotation(len(rows), old.key_id, new.key_id, path)
