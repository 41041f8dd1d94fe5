"""Encryption at rest and blind indexes of ID and phone numbers."""

import hashlib
import hmac
import os
import stat

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from taizhang.lib import crypto
from taizhang.lib.crypto import DecryptionError

KEY_A = "0f" * 32
KEY_B = "a5" * 32
ID = "410325199005201233"


@pytest.fixture
def use_key(monkeypatch):
    """Switch the master key (hex, passphrase, or None for the key file) for one test."""

    def use(value):
        if value is None:
            monkeypatch.delenv("TAIZHANG_SECRET_KEY", raising=False)
        else:
            monkeypatch.setenv("TAIZHANG_SECRET_KEY", value)
        crypto.reset_keys()

    use(KEY_A)
    yield use
    # The environment is restored after this; the next caller reads it afresh.
    crypto.reset_keys()


def expected_index(master: bytes, domain: str, text: str) -> str:
    """The blind index as specified: HKDF-SHA256 subkey, HMAC-SHA256, first 16 bytes in hex."""
    subkey = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"taizhang-blind-index"
    ).derive(master)
    return hmac.new(subkey, f"{domain}\0{text}".encode(), hashlib.sha256).digest()[:16].hex()


class TestEncryption:
    def test_it_decrypts_what_it_encrypted(self, use_key):
        assert crypto.decrypt(crypto.encrypt(ID)) == ID

    def test_it_keeps_chinese_text_and_empty_text(self, use_key):
        assert crypto.decrypt(crypto.encrypt("河南省 13800138000")) == "河南省 13800138000"
        assert crypto.decrypt(crypto.encrypt("")) == ""

    def test_it_lays_out_version_nonce_ciphertext_and_tag(self, use_key):
        blob = crypto.encrypt(ID)
        assert blob[:1] == b"\x01"
        assert len(blob) == 1 + 12 + len(ID) + 16

    def test_two_encryptions_of_the_same_text_differ(self, use_key):
        first, second = crypto.encrypt(ID), crypto.encrypt(ID)
        assert first != second
        assert crypto.decrypt(first) == crypto.decrypt(second) == ID

    def test_it_does_not_hold_the_text_in_clear(self, use_key):
        assert ID.encode() not in crypto.encrypt(ID)

    def test_it_reads_a_memoryview_as_the_database_returns_it(self, use_key):
        assert crypto.decrypt(memoryview(crypto.encrypt(ID))) == ID

    @pytest.mark.parametrize("position", [1, 5, 13, 20, -1])
    def test_it_refuses_a_tampered_value(self, use_key, position):
        blob = bytearray(crypto.encrypt(ID))
        blob[position] ^= 0x01
        with pytest.raises(DecryptionError) as caught:
            crypto.decrypt(bytes(blob))
        assert str(caught.value) == (
            "the stored value cannot be decrypted: it was altered, "
            "or the secret key is not the one it was encrypted with"
        )

    def test_it_refuses_an_unknown_version(self, use_key):
        blob = b"\x02" + crypto.encrypt(ID)[1:]
        with pytest.raises(DecryptionError, match="not an encrypted value of this system"):
            crypto.decrypt(blob)

    def test_it_refuses_a_truncated_value(self, use_key):
        with pytest.raises(DecryptionError, match="not an encrypted value of this system"):
            crypto.decrypt(crypto.encrypt(ID)[:28])

    def test_it_refuses_a_value_encrypted_under_another_key(self, use_key):
        blob = crypto.encrypt(ID)
        use_key(KEY_B)
        with pytest.raises(DecryptionError, match="not the one it was encrypted with"):
            crypto.decrypt(blob)


class TestBlindIndex:
    def test_it_is_hmac_sha256_of_domain_nul_text_under_the_derived_key(self, use_key):
        assert crypto.blind_index(ID) == expected_index(bytes.fromhex(KEY_A), "id", ID)

    def test_it_is_32_lowercase_hex_characters(self, use_key):
        index = crypto.blind_index(ID)
        assert len(index) == 32
        assert set(index) <= set("0123456789abcdef")

    def test_it_is_stable(self, use_key):
        first = crypto.blind_index(ID)
        crypto.reset_keys()
        assert crypto.blind_index(ID) == first

    def test_domains_keep_indexes_apart(self, use_key):
        assert crypto.blind_index("13800138000", "phone") != crypto.blind_index("13800138000")

    def test_a_different_key_gives_a_different_index(self, use_key):
        with_a = crypto.blind_index(ID)
        use_key(KEY_B)
        assert crypto.blind_index(ID) != with_a
        assert crypto.blind_index(ID) == expected_index(bytes.fromhex(KEY_B), "id", ID)

    def test_it_does_not_use_the_encryption_key(self, use_key):
        # With the same input, an index under the AES subkey would be a different value.
        master = bytes.fromhex(KEY_A)
        aes_subkey = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"taizhang-aes-gcm"
        ).derive(master)
        under_aes_key = hmac.new(aes_subkey, f"id\0{ID}".encode(), hashlib.sha256).digest()
        assert crypto.blind_index(ID) != under_aes_key[:16].hex()


class TestMasterKey:
    def test_a_passphrase_is_stretched_with_sha256(self, use_key):
        use_key("correct horse battery staple")
        master = hashlib.sha256(b"correct horse battery staple").digest()
        assert crypto.blind_index(ID) == expected_index(master, "id", ID)

    def test_without_the_variable_it_uses_a_private_key_file(self, use_key, monkeypatch, tmp_path):
        # The file is made only where nothing is encrypted yet (taizhang.operations.keys).
        monkeypatch.setenv("TAIZHANG_DATA", str(tmp_path))
        use_key(None)
        key_file = crypto.create_key_file()
        blob = crypto.encrypt(ID)
        assert key_file == tmp_path / "secret.key"
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
        master = bytes.fromhex(key_file.read_text().strip())
        assert len(master) == 32
        assert crypto.blind_index(ID) == expected_index(master, "id", ID)
        # A new process (here: forgotten keys) reads the same file and can decrypt.
        crypto.reset_keys()
        assert crypto.decrypt(blob) == ID
