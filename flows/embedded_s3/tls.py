"""The embedded S3's secrets: its S3 credentials, and ``security.toml`` (JWT keys, mutual TLS for gRPC).

Mutual TLS on gRPC, so no local process can drive SeaweedFS by gRPC.

Without it the gRPC ports (S3 port + 10000 …) take any client: ``weed shell`` could list,
replace or delete every stored file. We make a private CA and one certificate that every
SeaweedFS component presents and requires (SeaweedFS does not check host names, so one
certificate serves all). Both are made afresh at each start and stay in the owner-only state
folder; only a process that can read that folder can talk gRPC to the servers.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography is imported when the keys are made, not with the module
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

CA_NAME = "trust-notices embedded S3 CA"
# Every [grpc.<component>] section `weed mini` may start, plus the client side.
_COMPONENTS = ("master", "volume", "filer", "s3", "admin", "worker", "msg_broker", "msg_agent", "mq", "client")


def write_grpc_tls(state: Path) -> str:
    """Write ``tls/`` (CA, certificate, key) under ``state``; return the security.toml lines that use them."""
    from cryptography.hazmat.primitives import serialization

    folder = state / "tls"
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    ca_key, ca = _make_ca()
    key, cert = _make_certificate(ca_key, ca)
    files = {
        "ca.crt": ca.public_bytes(serialization.Encoding.PEM),
        "weed.crt": cert.public_bytes(serialization.Encoding.PEM),
        "weed.key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    }
    for name, data in files.items():
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    cert_path, key_path = json.dumps(str(folder / "weed.crt")), json.dumps(str(folder / "weed.key"))  # TOML strings
    lines = [f"[grpc]\nca = {json.dumps(str(folder / 'ca.crt'))}\n"]
    for component in _COMPONENTS:
        lines.append(f"[grpc.{component}]\ncert = {cert_path}\nkey = {key_path}\n")
    return "".join(lines)


def _make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A fresh private CA (ten years: it is remade at every start anyway)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_key, ca


def _make_certificate(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The one certificate every SeaweedFS component presents, as server and as client."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "weed")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def write_security(state: Path) -> None:
    """Write ``security.toml`` (weed reads it from its cwd, the state folder) with fresh keys.

    ``jwt.signing``: the volume server accepts a write or delete only with a JWT the master
    issued for that one file id. ``jwt.filer_signing`` (+ ``.read``): would make the filer's
    HTTP port answer only requests the S3 gateway signed, if ``-disableHttp`` did not turn it
    off; kept in case a SeaweedFS version ignores that flag for the filer. New keys at each
    start: tokens live 10 s, nothing needs the old ones. The gRPC ports get mutual TLS
    (``write_grpc_tls``).
    """
    keys = [secrets.token_urlsafe(32) for _ in range(3)]
    write_private(
        state / "security.toml",
        "# Generated by `notices s3 start` at each start; owner-only. Do not edit.\n"
        f'[jwt.signing]\nkey = "{keys[0]}"\nexpires_after_seconds = 10\n'
        f'[jwt.filer_signing]\nkey = "{keys[1]}"\nexpires_after_seconds = 10\n'
        f'[jwt.filer_signing.read]\nkey = "{keys[2]}"\nexpires_after_seconds = 10\n'
        "[access]\nui = false\n"
        "[filer.expose_directory_metadata]\nenabled = false\n" + write_grpc_tls(state),
    )


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable and writable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def s3_credentials(state: Path) -> tuple[str, str]:
    """The S3 access key and secret: generated once, owner-readable under the state folder,
    with the identities file (``s3.json``) that makes SeaweedFS enforce them."""
    path = state / "credentials.json"
    if path.exists():
        data = json.loads(path.read_text())
        return data["access_key"], data["secret_key"]
    access = "TN" + secrets.token_hex(9).upper()
    secret = secrets.token_urlsafe(30)
    write_private(path, json.dumps({"access_key": access, "secret_key": secret}))
    identities = {
        "identities": [
            {
                "name": "trust-notices",
                "credentials": [{"accessKey": access, "secretKey": secret}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }
    write_private(state / "s3.json", json.dumps(identities))
    return access, secret
