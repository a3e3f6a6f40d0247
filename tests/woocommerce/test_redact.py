from __future__ import annotations

import pytest

from app.woocommerce.redact import REDACTED, redact, redact_data
from tests.woocommerce.conftest import STORAGES, load_case

FAKE_KEY = "ck_0123456789abcdef0123456789abcdef01234567"
FAKE_SECRET = "cs_fedcba9876543210fedcba9876543210fedcba98"


class TestRedact:
    @pytest.mark.parametrize("storage", STORAGES)
    def test_case_38_link_header_pattern(self, storage: str) -> None:
        recorded_link = load_case(storage, "38-")["response"]["headers"]["link"]
        assert "consumer_secret=cs_REDACTED" in recorded_link
        link = recorded_link.replace("ck_REDACTED", FAKE_KEY).replace("cs_REDACTED", FAKE_SECRET)

        cleaned = redact(link)

        assert FAKE_KEY not in cleaned
        assert FAKE_SECRET not in cleaned
        assert f"consumer_key={REDACTED}&consumer_secret={REDACTED}&" in cleaned
        # Everything else in the header survives.
        assert "per_page=1" in cleaned and "page=2>" in cleaned and 'rel="next"' in cleaned

    def test_secrets_of_any_shape_passed_explicitly(self) -> None:
        text = "echo: my-odd-secret and consumer_key=plain"
        cleaned = redact(text, secrets=["my-odd-secret"])
        assert "my-odd-secret" not in cleaned
        assert cleaned == f"echo: {REDACTED} and consumer_key={REDACTED}"

    @pytest.mark.parametrize("storage", STORAGES)
    def test_oauth_link_and_base_string(self, storage: str) -> None:
        case = load_case(storage, "39-")
        link = case["response"]["headers"]["link"]
        signature = case["oauth"]["oauth_signature"].rstrip("=").replace("/", "%2F")
        assert signature in link
        cleaned_link = redact(link)
        assert signature not in cleaned_link
        assert case["oauth"]["consumer_key"] not in cleaned_link
        assert case["oauth"]["oauth_nonce"] in cleaned_link  # a nonce is not a secret

        base = redact(case["oauth"]["signature_base_string"])
        assert case["oauth"]["consumer_key"] not in base
        assert "oauth_nonce%3D" + case["oauth"]["oauth_nonce"] in base

    def test_basic_authorization_header(self) -> None:
        cleaned = redact("Authorization: Basic Y2tfeDpjc195\nAccept: application/json")
        assert cleaned == f"Authorization: Basic {REDACTED}\nAccept: application/json"

    def test_oauth_authorization_header(self) -> None:
        header = 'Authorization: OAuth oauth_consumer_key="ck_1", oauth_signature="ab%3D"'
        cleaned = redact(header)
        assert "ck_1" not in cleaned and "ab%3D" not in cleaned
        assert f'oauth_signature="{REDACTED}"' in cleaned

    def test_key_shaped_values_anywhere(self) -> None:
        assert redact(f"key {FAKE_KEY} / {FAKE_SECRET}.") == f"key {REDACTED} / {REDACTED}."

    def test_redact_data_masks_named_fields_and_nested_strings(self) -> None:
        data = {
            "consumer_secret": "s3",
            "links": [f"https://x.test/?consumer_key={FAKE_KEY}&page=2"],
            "count": 3,
        }
        cleaned = redact_data(data)
        assert cleaned == {
            "consumer_secret": REDACTED,
            "links": [f"https://x.test/?consumer_key={REDACTED}&page=2"],
            "count": 3,
        }
