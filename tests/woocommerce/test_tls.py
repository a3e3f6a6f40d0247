"""WCSYNC_CA_BUNDLE: a store whose HTTPS certificate comes from the owner's own CA, served over real
TLS on loopback (a fake store behind uvicorn with a certificate made here)."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from app import cli
from app.config import Settings, get_settings, store_tls_context
from app.main import create_app
from app.testing import FakeStore
from app.woocommerce import RetriableError, WooCommerceClient
from tests.e2e.support import TOKEN, loopback, make_fake, service_settings


@dataclass
class LocalCA:
    ca_pem: Path
    server_pem: Path
    server_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def local_ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    """A CA of our own and a certificate it signed for 127.0.0.1 and localhost."""
    folder = tmp_path_factory.mktemp("tls")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("wcsync test CA"))
        .issuer_name(_name("wcsync test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    found = LocalCA(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    found.ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.server_pem.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    found.server_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return found


@pytest.fixture
async def https_store(local_ca: LocalCA) -> AsyncIterator[tuple[FakeStore, str]]:
    """A fake store served over TLS on loopback with the local CA's certificate."""
    fake = make_fake("tls")
    server = uvicorn.Server(
        uvicorn.Config(
            fake.app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            ssl_certfile=str(local_ca.server_pem),
            ssl_keyfile=str(local_ca.server_key),
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield fake, f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = server.force_exit = True
        await asyncio.wait_for(task, 10)


def _client(fake: FakeStore, url: str, verify: ssl.SSLContext) -> WooCommerceClient:
    return WooCommerceClient(
        url, fake.api_key.consumer_key, fake.api_key.consumer_secret, auth_mode="basic", verify=verify
    )


class TestTheClientTrustsTheBundle:
    async def test_a_store_certified_by_the_bundle_is_read(
        self, local_ca: LocalCA, https_store: tuple[FakeStore, str]
    ) -> None:
        fake, url = https_store
        async with _client(fake, url, store_tls_context(str(local_ca.ca_pem))) as client:
            assert "wc/v3" in (await client.site_index())["namespaces"]
            assert (await client.list_orders(per_page=1, fields=("id",))).items == []

    async def test_without_the_bundle_the_certificate_is_refused_in_words(
        self, https_store: tuple[FakeStore, str]
    ) -> None:
        fake, url = https_store
        async with _client(fake, url, store_tls_context("")) as client:
            with pytest.raises(RetriableError) as caught:
                await client.site_index()
        assert "certificate is not trusted" in str(caught.value)
        assert "WCSYNC_CA_BUNDLE" in str(caught.value)

    async def test_the_public_authorities_stay_trusted_beside_the_bundle(self, local_ca: LocalCA) -> None:
        # The bundle adds to the usual CAs: one store on a private CA must not cut off the others.
        usual = store_tls_context("").cert_store_stats()["x509_ca"]
        both = store_tls_context(str(local_ca.ca_pem)).cert_store_stats()["x509_ca"]
        assert usual > 10
        assert both == usual + 1


class TestTheServiceUsesTheSetting:
    async def test_the_store_check_passes_over_https_with_the_bundle_and_fails_without(
        self, tmp_path: Path, local_ca: LocalCA, https_store: tuple[FakeStore, str]
    ) -> None:
        fake, url = https_store
        for bundle, expected in ((str(local_ca.ca_pem), True), ("", False)):
            database = tmp_path / f"wcsync-{bool(bundle)}.db"
            app = create_app(service_settings(f"sqlite+aiosqlite:///{database}", ca_bundle=bundle))
            async with loopback(app) as base:
                async with httpx.AsyncClient(
                    base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
                ) as api:
                    created = await api.post(
                        "/api/stores",
                        json={
                            "name": "tls",
                            "role": "main",
                            "base_url": url,
                            "consumer_key": fake.api_key.consumer_key,
                            "consumer_secret": fake.api_key.consumer_secret,
                            "auth_mode": "basic",
                        },
                    )
                    assert created.status_code == 201, created.text
                    check = (await api.post("/api/stores/tls/check")).json()
            reachable = next(c for c in check["checks"] if c["name"] == "reachable")
            assert reachable["ok"] is expected, check
            if not expected:
                assert "WCSYNC_CA_BUNDLE" in reachable["detail"]


class TestABadBundleIsSaidAtStart:
    def test_a_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ValidationError, match="is not a file: give the path of a PEM file"):
            Settings(ca_bundle=str(tmp_path / "nowhere.pem"))

    def test_a_file_without_a_certificate(self, tmp_path: Path) -> None:
        junk = tmp_path / "junk.pem"
        junk.write_text("not a certificate\n")
        with pytest.raises(ValidationError, match="holds no CA certificate that can be read"):
            Settings(ca_bundle=str(junk))

    def test_empty_means_the_usual_authorities(self) -> None:
        assert Settings(ca_bundle=" ").ca_bundle == ""

    @pytest.fixture
    def fresh_settings(self) -> Iterator[None]:
        get_settings.cache_clear()
        yield
        get_settings.cache_clear()

    def test_wcsync_serve_stops_with_one_sentence(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        fresh_settings: None,
    ) -> None:
        monkeypatch.setenv("WCSYNC_CA_BUNDLE", str(tmp_path / "missing-ca.pem"))
        monkeypatch.setenv("WCSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'wcsync.db'}")
        assert cli.main(["serve", "--port", "9"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"wcsync: WCSYNC_CA_BUNDLE: {tmp_path / 'missing-ca.pem'} is not a file")
        assert "Traceback" not in err
