"""Encryption at rest: an AES-256-GCM ``Cipher``, and field encryption for the stores.

:class:`AesGcmCipher` implements the ``Cipher`` port on pyca/cryptography (the ``crypto`` extra:
``pip install "crmkit[crypto]"``). Keys are supplied by the host (from its vault or KMS), each under
a key id; every token names the key that made it, so keys rotate: add a new key, make it
``current``, keep the old ones for reading.

:class:`EncryptedFields` encrypts chosen paths of the stored documents (by default the personal
data of :class:`crmkit.customers.privacy.PersonalDataMap`) and replaces personal data in the
projected (queryable) columns by a keyed blind index (HMAC-SHA256), so exact-value look-ups (a
contact's email, a lead's phone) still work while the database holds no plaintext. Give it to a
store: ``SQLiteStore(path, encryption=...)``, ``MemoryStore(encryption=...)``.

Example:
    >>> cipher = AesGcmCipher({"k1": bytes(32)})
    >>> token = cipher.encrypt(b"amy@example.com", b"contacts:con_1:emails")
    >>> b"amy" in token, cipher.decrypt(token, b"contacts:con_1:emails")
    (False, b'amy@example.com')
    >>> fields = EncryptedFields(cipher, index_key=b"index key from the vault")
    >>> sealed = fields.seal("contacts", "con_1", {"id": "con_1", "emails": ["amy@example.com"]})
    >>> sealed["emails"].startswith("enc:v1:"), fields.open("contacts", "con_1", sealed)
    (True, {'id': 'con_1', 'emails': ['amy@example.com']})

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from crmkit.customers.privacy import PersonalDataMap
from crmkit.errors import MissingDependencyError, StorageError, ValidationError
from crmkit.kernel.query import Op, Query
from crmkit.ports import Cipher

__all__ = ["AesGcmCipher", "DEFAULT_BLIND_INDEXES", "EncryptedFields"]

_VERSION = 1
_PREFIX = "enc:v1:"
_BLIND_PREFIX = "bi:"


def _aesgcm() -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:  # pragma: no cover - the test extra installs it
        raise MissingDependencyError.for_extra(
            "cryptography", "crypto", "AesGcmCipher (encryption at rest)"
        ) from None
    return AESGCM


class AesGcmCipher:
    """AES-GCM with keys the host supplies, by key id; implements :class:`crmkit.ports.Cipher`.

    Args:
        keys: key id -> key (16, 24 or 32 random bytes; 32 for AES-256). Keep them in the host's
            vault, never in the database.
        current: the key id new tokens are made with. Default: the last key given.

    A token is ``version | key id | 96-bit random nonce | ciphertext and tag``; decrypting
    with the wrong key, other associated data or a changed token raises ``StorageError``.

    Example:
        >>> old, new = AesGcmCipher.generate_key(), AesGcmCipher.generate_key()
        >>> token = AesGcmCipher({"2025": old}).encrypt(b"secret", b"ad")
        >>> rotated = AesGcmCipher({"2025": old, "2026": new}, current="2026")
        >>> rotated.key_id, rotated.decrypt(token, b"ad")
        ('2026', b'secret')
        >>> AesGcmCipher({"2026": new}).decrypt(token, b"ad")
        Traceback (most recent call last):
        ...
        crmkit.errors.StorageError: cannot decrypt: the data was encrypted with key '2025', ...

    .. versionadded:: 0.1.0
    """

    def __init__(self, keys: Mapping[str, bytes], *, current: str | None = None) -> None:
        aesgcm = _aesgcm()
        if not isinstance(keys, Mapping) or not keys:
            raise ValidationError(
                "must map key ids to keys (at least one), e.g. {'2026': key_bytes}", path="keys"
            )
        self._ciphers: dict[str, Any] = {}
        for key_id, key in keys.items():
            if not isinstance(key_id, str) or not key_id or len(key_id.encode()) > 64:
                raise ValidationError(
                    f"key ids must be text of 1 to 64 bytes, not {key_id!r}", path="keys"
                )
            if not isinstance(key, bytes) or len(key) not in (16, 24, 32):
                raise ValidationError(
                    f"key {key_id!r} must be 16, 24 or 32 random bytes (32 for AES-256); "
                    "make one with AesGcmCipher.generate_key()",
                    path=f"keys[{key_id!r}]",
                )
            self._ciphers[key_id] = aesgcm(key)
        chosen = current if current is not None else list(keys)[-1]
        if chosen not in self._ciphers:
            raise ValidationError(
                f"{chosen!r} is not one of the key ids given ({', '.join(map(repr, keys))})",
                path="current",
            )
        self._current = chosen

    @staticmethod
    def generate_key() -> bytes:
        """Return a new random 256-bit key (for the host to keep in its vault).

        Example:
            >>> len(AesGcmCipher.generate_key())
            32
        """
        return os.urandom(32)

    @property
    def key_id(self) -> str:
        """The id of the key new tokens are made with."""
        return self._current

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """Encrypt ``plaintext``, bound to ``associated_data``, with the current key."""
        kid = self._current.encode()
        nonce = os.urandom(12)
        sealed = bytes(self._ciphers[self._current].encrypt(nonce, plaintext, associated_data))
        return bytes([_VERSION, len(kid)]) + kid + nonce + sealed

    def decrypt(self, token: bytes, associated_data: bytes) -> bytes:
        """Decrypt a token made by :meth:`encrypt` (with any key this cipher holds)."""
        if not isinstance(token, bytes) or len(token) < 2 or token[0] != _VERSION:
            raise StorageError("cannot decrypt: this is not a crmkit AES-GCM token (version 1)")
        size = token[1]
        kid = token[2 : 2 + size].decode(errors="replace")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise StorageError(
                f"cannot decrypt: the data was encrypted with key {kid!r}, which this cipher "
                f"does not hold (it holds {', '.join(map(repr, self._ciphers))}); pass the old "
                "key too when rotating",
                details={"key_id": kid},
            )
        nonce = token[2 + size : 14 + size]
        try:
            return bytes(cipher.decrypt(nonce, token[14 + size :], associated_data))
        except Exception as exc:  # cryptography's InvalidTag
            raise StorageError(
                f"cannot decrypt with key {kid!r}: wrong key, or the data was changed or moved "
                "to another record",
                details={"key_id": kid},
            ) from exc


#: Projected fields that hold personal data, per record type: stored as a blind index.
DEFAULT_BLIND_INDEXES: Mapping[str, tuple[str, ...]] = {
    "customers": ("name", "name_folded"),
    "contacts": ("name", "emails", "phones"),
    "leads": ("name_folded", "email", "phone"),
}

_EXACT = frozenset({Op.EQ, Op.NE, Op.IN, Op.CONTAINS})


def _paths(value: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"must map record type names to lists of paths, not {type(value).__name__}",
            path="paths",
        )
    out: dict[str, tuple[str, ...]] = {}
    for name, items in value.items():
        if isinstance(items, str) or not isinstance(items, Iterable):
            raise ValidationError(f"must be a list of paths, not {items!r}", path=f"paths.{name}")
        out[str(name)] = tuple(str(i) for i in items)
    return out


class EncryptedFields:
    """Which document paths a store encrypts, and which projected fields become blind indexes.

    Args:
        cipher: the :class:`~crmkit.ports.Cipher` (e.g. :class:`AesGcmCipher`).
        index_key: the secret for the blind indexes (HMAC-SHA256); the host keeps it with the
            cipher's keys. Changing it means rebuilding the projected columns.
        paths: record type -> document paths to encrypt (dotted, ``[]`` for every list item).
            Default: every path of :meth:`PersonalDataMap.builtin()
            <crmkit.customers.privacy.PersonalDataMap.builtin>`, and the values (not the
            digests) of audit entries.
        blind_indexes: record type -> projected fields stored as a blind index. Default:
            :data:`DEFAULT_BLIND_INDEXES`. Queries on them may only test exact values
            (``==``, ``!=``, ``in``, ``contains``).

    Each value is encrypted as its JSON text with associated data naming the record type, id
    and path, so a value copied to another record or field does not decrypt.

    Example:
        >>> fields = EncryptedFields(AesGcmCipher({"k": bytes(32)}), index_key=b"k2")
        >>> fields.project("contacts", "emails", ("amy@example.com",))
        ('bi:...',)
        >>> fields.project("contacts", "customer_id", "cus_1")
        'cus_1'

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        cipher: Cipher,
        *,
        index_key: bytes,
        paths: Mapping[str, Iterable[str]] | None = None,
        blind_indexes: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        if not isinstance(cipher, Cipher):
            raise ValidationError(
                f"must implement crmkit.ports.Cipher (e.g. AesGcmCipher), not "
                f"{type(cipher).__name__}",
                path="cipher",
            )
        if not isinstance(index_key, bytes) or len(index_key) < 1:
            raise ValidationError("must be secret bytes held by the host", path="index_key")
        self.cipher = cipher
        self._index_key = index_key
        if paths is None:
            pd = PersonalDataMap.builtin()
            paths = {name: [f.path for f in fields] for name, fields in pd.fields.items()}
            paths["audit_entries"] = ["changes[].before.value", "changes[].after.value"]
        self.paths = _paths(paths)
        self.blind_indexes = _paths(
            DEFAULT_BLIND_INDEXES if blind_indexes is None else blind_indexes
        )

    # ----- documents ---------------------------------------------------------------------
    def _ad(self, record_type: str, id: str, path: str) -> bytes:
        return f"crmkit:{record_type}:{id}:{path}".encode()

    def _visit(self, node: Any, parts: list[str], change: Any) -> None:
        if not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        many = head.endswith("[]")
        key = head[:-2] if many else head
        if key not in node or node[key] is None:
            return
        if many and rest:
            if isinstance(node[key], list):
                for item in node[key]:
                    self._visit(item, rest, change)
            return
        if rest:
            self._visit(node[key], rest, change)
            return
        node[key] = change(node[key])

    def seal(self, record_type: str, id: str, document: Mapping[str, Any]) -> dict[str, Any]:
        """Return a copy of ``document`` with the configured paths encrypted.

        Example:
            >>> fields = EncryptedFields(AesGcmCipher({"k": bytes(32)}), index_key=b"i")
            >>> fields.seal("products", "TEA", {"id": "TEA", "name": "Tea"})
            {'id': 'TEA', 'name': 'Tea'}
        """
        paths = self.paths.get(record_type)
        copied = json.loads(json.dumps(document)) if paths else dict(document)
        for path in paths or ():
            ad = self._ad(record_type, id, path)

            def encrypt(value: Any, ad: bytes = ad) -> Any:
                if isinstance(value, str) and value.startswith(_PREFIX):
                    return value
                plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
                token = self.cipher.encrypt(plain, ad)
                return _PREFIX + base64.urlsafe_b64encode(token).decode()

            self._visit(copied, path.split("."), encrypt)
        return copied

    def open(self, record_type: str, id: str, document: dict[str, Any]) -> dict[str, Any]:
        """Decrypt the configured paths of ``document`` in place and return it.

        Values that are not encrypted (written before encryption was turned on) are kept.
        """
        for path in self.paths.get(record_type, ()):
            ad = self._ad(record_type, id, path)

            def decrypt(value: Any, ad: bytes = ad, path: str = path) -> Any:
                if not (isinstance(value, str) and value.startswith(_PREFIX)):
                    return value
                try:
                    token = base64.urlsafe_b64decode(value[len(_PREFIX) :].encode())
                except ValueError as exc:
                    raise StorageError(
                        f"{record_type} {id!r}: {path} holds a damaged encrypted value"
                    ) from exc
                try:
                    return json.loads(self.cipher.decrypt(token, ad))
                except StorageError as exc:
                    raise StorageError(
                        f"{record_type} {id!r}: cannot read {path}: {exc.message}",
                        details={**exc.details, "record_type": record_type, "id": id},
                    ) from exc

            self._visit(document, path.split("."), decrypt)
        return document

    def seal_text(self, kind: str, text: str) -> str:
        """Encrypt a whole text (an outbox event's payload) for a store to keep.

        Example:
            >>> fields = EncryptedFields(AesGcmCipher({"k": bytes(32)}), index_key=b"i")
            >>> sealed = fields.seal_text("outbox", '{"name": "Amy"}')
            >>> "Amy" in sealed, fields.open_text("outbox", sealed)
            (False, '{"name": "Amy"}')
        """
        token = self.cipher.encrypt(text.encode(), f"crmkit:{kind}".encode())
        return _PREFIX + base64.urlsafe_b64encode(token).decode()

    def open_text(self, kind: str, text: str) -> str:
        """Decrypt what :meth:`seal_text` made (plain text written before is returned as is)."""
        if not text.startswith(_PREFIX):
            return text
        try:
            token = base64.urlsafe_b64decode(text[len(_PREFIX) :].encode())
        except ValueError as exc:
            raise StorageError(f"a damaged encrypted {kind} value") from exc
        try:
            return self.cipher.decrypt(token, f"crmkit:{kind}".encode()).decode()
        except StorageError as exc:
            raise StorageError(
                f"cannot read the {kind}: {exc.message}", details=dict(exc.details)
            ) from exc

    # ----- projected fields --------------------------------------------------------------
    def _blind(self, record_type: str, field: str, value: Any) -> Any:
        if value is None:
            return None
        text = value if isinstance(value, str) else json.dumps(value)
        digest = hmac.new(
            self._index_key, f"{record_type}.{field}\x00{text}".encode(), hashlib.sha256
        ).hexdigest()
        return _BLIND_PREFIX + digest[:40]

    def is_blind(self, record_type: str, field: str) -> bool:
        """Whether ``field`` of ``record_type`` is stored as a blind index."""
        return field in self.blind_indexes.get(record_type, ())

    def project(self, record_type: str, field: str, value: Any) -> Any:
        """The value a store keeps in the projected column: a blind index where configured."""
        if not self.is_blind(record_type, field):
            return value
        if isinstance(value, tuple):
            return tuple(self._blind(record_type, field, item) for item in value)
        return self._blind(record_type, field, value)

    def query(self, record_type: str, query: Query) -> Query:
        """Return ``query`` with values compared to blind-indexed fields turned into indexes.

        A blind index only answers "equal to this value": ordering by it, ranges and prefixes
        are refused with a ``ValidationError`` that says so.

        Example:
            >>> fields = EncryptedFields(AesGcmCipher({"k": bytes(32)}), index_key=b"i")
            >>> q = fields.query("leads", Query.where(email="amy@example.com"))
            >>> q.filters[0].value.startswith("bi:")
            True
            >>> fields.query("customers", Query().order("name"))
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: order_by: customers.name is encrypted at rest ...
        """
        blind = self.blind_indexes.get(record_type, ())
        if not blind:
            return query
        for order in query.order_by:
            if order.field in blind:
                raise ValidationError(
                    f"{record_type}.{order.field} is encrypted at rest (kept as a blind index); "
                    "it cannot be sorted on: sort on another field",
                    path="order_by",
                )
        filters = []
        for flt in query.filters:
            if flt.field not in blind:
                filters.append(flt)
                continue
            if flt.op not in _EXACT:
                raise ValidationError(
                    f"{record_type}.{flt.field} is encrypted at rest (kept as a blind index); "
                    f"only exact matches (==, !=, in, contains) work, not {flt.op.value}",
                    path=f"filters.{flt.field}",
                )
            value = flt.value
            if flt.op is Op.IN:
                value = tuple(self._blind(record_type, flt.field, x) for x in value)
            else:
                value = self._blind(record_type, flt.field, value)
            filters.append(attrs.evolve(flt, value=value))
        return attrs.evolve(query, filters=tuple(filters))
