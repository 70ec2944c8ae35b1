"""The key that signs the audit trail's checkpoints (Ed25519), kept outside the database.

The private key is a PEM file, ``instance/audit_signing_key.pem`` unless AUDIT_SIGNING_KEY_FILE names another,
created owner-only on first use. Its public half is published (``/api/v1/audit/keys``) so that anyone holding a
copy of a checkpoint can check it. A key retired by ``flask audit rotate-key`` leaves its public half in
``audit_public_keys/`` beside it (AUDIT_PUBLIC_KEYS_DIR), so that the checkpoints it signed still verify.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

ALGORITHM = "Ed25519"


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    pem: str
    current: bool


def key_file() -> Path:
    return Path(current_app.config.get("AUDIT_SIGNING_KEY_FILE")
                or Path(current_app.instance_path) / "audit_signing_key.pem")


def retired_dir() -> Path:
    return Path(current_app.config.get("AUDIT_PUBLIC_KEYS_DIR") or key_file().parent / "audit_public_keys")


def key_id(public: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _write_new(path: Path, data: bytes, *, replace: bool = False) -> bool:
    """Write ``data`` to ``path`` owner-only, never half-written: False if another process made it first."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        if replace:
            os.replace(scratch, path)
            return True
        os.link(scratch, path)  # fails if the file exists: the first process to create the key wins
        return True
    except FileExistsError:
        return False
    finally:
        scratch.unlink(missing_ok=True)


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def signing_key() -> Ed25519PrivateKey:
    """The installation's signing key, generated on first use."""
    path = key_file()
    if not path.exists():
        _write_new(path, _private_pem(Ed25519PrivateKey.generate()))
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def trusted_keys() -> dict[str, Ed25519PublicKey]:
    """The public keys whose signatures count: the current key's and those of retired keys."""
    keys: dict[str, Ed25519PublicKey] = {}
    folder = retired_dir()
    for path in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
        public = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(public, Ed25519PublicKey):
            keys[key_id(public)] = public
    if key_file().exists():
        public = signing_key().public_key()
        keys[key_id(public)] = public
    return keys


def public_keys() -> list[PublicKey]:
    """The trusted public keys as published: the current one first."""
    current = key_id(signing_key().public_key()) if key_file().exists() else None
    return sorted((PublicKey(kid, _public_pem(public), kid == current) for kid, public in trusted_keys().items()),
                  key=lambda k: (not k.current, k.key_id))


def check(keys: dict[str, Ed25519PublicKey], kid: str, message: bytes, signature: str) -> str | None:
    """What is wrong with ``signature`` (hex) of ``message`` by key ``kid``, or None if it is genuine."""
    public = keys.get(kid)
    if public is None:
        return f"it is signed with key {kid}, which is not a trusted key (neither {key_file()} nor in {retired_dir()})"
    try:
        public.verify(bytes.fromhex(signature), message)
    except (InvalidSignature, ValueError):
        return "its signature does not match its content (it was altered, or forged without the key)"
    return None


def rotate() -> tuple[str, str]:
    """Retire the current key (its public half stays trusted) and put a new one in its place."""
    old = signing_key()
    old_id = key_id(old.public_key())
    _write_new(retired_dir() / f"{old_id}.pem", _public_pem(old.public_key()).encode(), replace=True)
    new = Ed25519PrivateKey.generate()
    _write_new(key_file(), _private_pem(new), replace=True)
    return old_id, key_id(new.public_key())
