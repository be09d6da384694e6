"""C2SP signed notes, checkpoints and cosignatures (flows.tlog.note), checked against Go's vectors."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.tlog.note import (
    Checkpoint,
    NoteError,
    Signature,
    cosign,
    format_checkpoint,
    generate_key,
    generate_witness_key,
    key_id,
    load_signer,
    load_verifier,
    load_witness_signer,
    load_witness_verifier,
    open_note,
    parse_checkpoint,
    sign_note,
    verify_cosignature,
    vkey_of,
)

# Verbatim from golang.org/x/mod/sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestSign, TestOpen).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"


def test_go_key_pair_loads_and_signs_as_go_does() -> None:
    signer, verifier = load_signer(PETER_SKEY), load_verifier(PETER_VKEY)
    assert signer.name == verifier.name == "PeterNeumann"
    assert signer.key_id == verifier.key_id == bytes.fromhex("c74f20a3")
    assert vkey_of(signer) == PETER_VKEY
    # Ed25519 is deterministic, so the signed note must be byte for byte Go's TestSign output.
    assert sign_note(TEXT, signer) == TEXT + "\n" + PETER_SIG
    assert verifier.verify(TEXT.encode(), signer.sign(TEXT.encode()))
    assert not verifier.verify(TEXT.encode() + b"x", signer.sign(TEXT.encode()))


def test_manglings_of_the_go_keys_are_rejected() -> None:
    # TestNewVerifier and TestNewSigner: every proper substring and every single-byte increment must fail.
    for key, load in [(PETER_VKEY, load_verifier), (PETER_SKEY, load_signer)]:
        for i in range(len(key)):
            for j in range(i + 1, len(key) + 1):
                if (i, j) != (0, len(key)):
                    with pytest.raises(NoteError):
                        load(key[i:j])
            mangled = key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :]
            with pytest.raises(NoteError):
                load(mangled)
    with pytest.raises(NoteError):  # wrong length key, with adjusted key hash (TestNewVerifier)
        load_verifier("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    with pytest.raises(NoteError):  # unknown algorithm, with adjusted key hash (TestNewVerifier)
        load_verifier("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_open_as_go_does() -> None:
    peter, enoch = load_verifier(PETER_VKEY), load_verifier(ENOCH_VKEY)
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    opened = open_note(note, [peter])
    assert opened.text == TEXT and opened.verified == ("PeterNeumann",)
    assert [(s.name, s.key_id.hex()) for s in opened.signatures] == [("PeterNeumann", "c74f20a3"), ("EnochRoot", "af0cfe78")]
    assert base64.b64encode(opened.signatures[0].key_id + opened.signatures[0].data).decode() == PETER_SIG.split()[-1]
    assert open_note(note, [peter, enoch]).verified == ("PeterNeumann", "EnochRoot")
    assert open_note(note, []).verified == ()
    # Duplicated signatures are kept once (Go's "Duplicated verified and unverified signatures").
    doubled = open_note(TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG, [peter])
    assert len(doubled.signatures) == 2 and doubled.verified == ("PeterNeumann",)
    with pytest.raises(NoteError, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        open_note(TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [peter])
    with pytest.raises(NoteError, match="more than 100"):
        open_note(TEXT + "\n" + PETER_SIG * 101, [peter])


@pytest.mark.parametrize(
    "bad",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        "\udcff" + TEXT + "\n" + PETER_SIG,  # Go's "\xff" (invalid UTF-8) as Python decodes it with surrogateescape
        TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + "— PeterNeumann x08g\n",  # a blob shorter than key id + 1 byte
    ],
)
def test_malformed_notes_are_rejected(bad: str) -> None:
    # The badMsgs of Go's TestOpen.
    with pytest.raises(NoteError, match="malformed|base64"):
        open_note(bad, [load_verifier(PETER_VKEY)])


def test_generated_keys_and_names() -> None:
    skey, vkey = generate_key("oakfield-trust.example.org/privacy-notices")
    signer, verifier = load_signer(skey), load_verifier(vkey)
    assert vkey_of(signer) == vkey and skey.startswith("PRIVATE+KEY+oakfield-trust.example.org/privacy-notices+")
    public = base64.b64decode(vkey.split("+", 2)[2])
    assert public[0] == 0x01 and key_id(signer.name, 0x01, public[1:]) == signer.key_id
    assert open_note(sign_note("hello\n", signer), [verifier]).verified == (signer.name,)
    for name in ["", "a b", "a+b", "tab\there", "new\nline"]:
        with pytest.raises(NoteError):
            generate_key(name)
    with pytest.raises(NoteError, match="end in a newline"):
        sign_note("no newline", signer)
    with pytest.raises(NoteError):  # a witness key is not a note key, and the other way round
        load_witness_verifier(vkey)


def test_a_known_key_with_a_bad_signature_is_named() -> None:
    skey, vkey = generate_key("log.example")
    other_skey, _ = generate_key("log.example")
    forged = sign_note("text\n", load_signer(other_skey))
    # Another key of the same name has another key id: unknown, not verified, not an error.
    assert open_note(forged, [load_verifier(vkey)]).verified == ()
    note = sign_note("text\n", load_signer(skey))
    tampered = note.replace("text\n", "texT\n", 1)
    with pytest.raises(NoteError, match="invalid signature for key log.example\\+"):
        open_note(tampered, [load_verifier(vkey)])


# The checkpoint of https://c2sp.org/tlog-cosignature's example.
SOFA = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_checkpoints() -> None:
    cp = parse_checkpoint(SOFA)
    assert cp.origin == "example.com/behind-the-sofa" and cp.size == 20852163 and cp.extensions == ()
    assert format_checkpoint(cp) == SOFA
    ext = Checkpoint("o", 0, bytes(32), ("ext one", "two"))
    assert parse_checkpoint(format_checkpoint(ext)) == ext
    for bad in [
        SOFA[:-1],
        "example.com/x\n",
        "example.com/x\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/x\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/x\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n",
        "example.com/x\n1\nAAAA\n",
        SOFA + "\n",
        "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    ]:
        with pytest.raises(NoteError, match="malformed|base64"):
            parse_checkpoint(bad)
    with pytest.raises(NoteError):
        format_checkpoint(Checkpoint("o", 1, b"short"))


def test_cosignatures() -> None:
    log_skey, log_vkey = generate_key("example.com/behind-the-sofa")
    w_skey, w_vkey = generate_witness_key("witness.example.com/w1")
    witness, wverifier = load_witness_signer(w_skey), load_witness_verifier(w_vkey)
    assert base64.b64decode(w_vkey.split("+", 2)[2])[0] == 0x04 and vkey_of(witness) == w_vkey
    assert key_id(witness.name, 0x04, base64.b64decode(w_vkey.split("+", 2)[2])[1:]) == witness.key_id
    signed = sign_note(SOFA, load_signer(log_skey))
    line = cosign(SOFA, witness, 1679315147)
    cosigned = signed + line
    opened = open_note(cosigned, [load_verifier(log_vkey), wverifier])
    assert opened.verified == ("example.com/behind-the-sofa", "witness.example.com/w1")
    sig = opened.signatures[1]
    assert sig.data[:8] == (1679315147).to_bytes(8, "big") and len(sig.data) == 72
    assert verify_cosignature(SOFA, sig, wverifier) == 1679315147
    # The signed message is "cosignature/v1\ntime <ts>\n" + checkpoint: check it with the raw public key.
    wverifier.public.verify(sig.data[8:], b"cosignature/v1\ntime 1679315147\n" + SOFA.encode())
    other = SOFA.replace("20852163", "20852164")
    with pytest.raises(NoteError, match="invalid cosignature for key witness.example.com/w1"):
        verify_cosignature(other, sig, wverifier)
    with pytest.raises(NoteError, match="invalid cosignature"):
        verify_cosignature(SOFA, Signature(sig.name, sig.key_id, (1679315148).to_bytes(8, "big") + sig.data[8:]), wverifier)
    with pytest.raises(NoteError, match="invalid signature for key witness"):
        open_note(other.join(cosigned.split(SOFA, 1)), [wverifier])
    with pytest.raises(NoteError, match="not a cosignature/v1"):
        cosign(SOFA, load_signer(log_skey), 1)
    with pytest.raises(NoteError):  # a note key's vkey is not a witness key: alg 0x01 against 0x04
        load_witness_verifier(log_vkey)


@settings(max_examples=50, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=60), st.integers(0, 2**63 - 1))
def test_any_text_signs_and_opens(body: str, timestamp: int) -> None:
    skey, vkey = PETER_SKEY, PETER_VKEY
    text = body.replace("\n", " ") + "\n"
    note = sign_note(text, load_signer(skey))
    assert open_note(note, [load_verifier(vkey)]).text == text
    w_skey, w_vkey = WITNESS
    line = cosign(text, load_witness_signer(w_skey), timestamp)
    sig = open_note(text + "\n" + line, []).signatures[0]
    assert verify_cosignature(text, sig, load_witness_verifier(w_vkey)) == timestamp


WITNESS = generate_witness_key("witness.example/prop")
