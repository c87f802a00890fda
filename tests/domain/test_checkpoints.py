"""Checkpoint notes in the C2SP tlog-checkpoint form: written, read back, malformed ones
refused with the field at fault named."""

from __future__ import annotations

import base64
import hashlib

import pytest

from domain.checkpoints import (
    MAX_TREE_SIZE,
    Checkpoint,
    checkpoint_note,
    origin_for,
    parse_checkpoint_note,
)
from domain.errors import InvalidInputError

# The example of https://c2sp.org/tlog-checkpoint, its note text byte for byte.
SPEC_ORIGIN = "example.com/behind-the-sofa"
SPEC_SIZE = 20852163
SPEC_ROOT_B64 = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
SPEC_NOTE = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

ROOT = hashlib.sha256(b"a root").digest()
ROOT_B64 = base64.b64encode(ROOT).decode()


def test_the_spec_example_is_written_byte_for_byte():
    root = base64.b64decode(SPEC_ROOT_B64)
    assert checkpoint_note(SPEC_ORIGIN, SPEC_SIZE, root) == SPEC_NOTE


def test_the_spec_example_reads_back_as_its_three_parts():
    assert parse_checkpoint_note(SPEC_NOTE) == Checkpoint(
        SPEC_ORIGIN, SPEC_SIZE, base64.b64decode(SPEC_ROOT_B64)
    )


@pytest.mark.parametrize("size", [0, 1, 7, 300, MAX_TREE_SIZE])
@pytest.mark.parametrize("extensions", [(), ("ext one",), ("a", "b c")])
def test_a_note_reads_back_as_what_wrote_it(size: int, extensions: tuple[str, ...]):
    note = checkpoint_note("arbiter/loans", size, ROOT, extensions)
    assert parse_checkpoint_note(note) == Checkpoint("arbiter/loans", size, ROOT, extensions)


def test_each_line_ends_with_a_newline_and_the_size_is_plain_decimal():
    note = checkpoint_note("arbiter/loans", 42, ROOT, ["x"])
    assert note == f"arbiter/loans\n42\n{ROOT_B64}\nx\n".encode()


def test_the_origin_names_the_deployment_and_the_workflow():
    assert origin_for("arbiter", "loans") == "arbiter/loans"
    assert origin_for("bank.example/prod", "kyc_review") == "bank.example/prod/kyc_review"


@pytest.mark.parametrize(
    ("deployment", "workflow_key", "field"),
    [
        ("", "loans", "deployment"),
        ("arbiter", "", "workflow_key"),
        ("my arbiter", "loans", "deployment"),
        ("arbiter\n", "loans", "deployment"),
        ("arbiter", "lo\tans", "workflow_key"),
        ("arbiter", "lo\nans", "workflow_key"),
        ("arbiter+1", "loans", "deployment"),
        ("arbiter", "a/b", "workflow_key"),
        ("arbiter\u00a0x", "loans", "deployment"),
    ],
)
def test_an_origin_part_with_whitespace_or_newlines_is_refused(
    deployment: str, workflow_key: str, field: str
):
    with pytest.raises(InvalidInputError) as refused:
        origin_for(deployment, workflow_key)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions", "field"),
    [
        ("", 1, ROOT, (), "origin"),
        ("a\nb", 1, ROOT, (), "origin"),
        ("a\rb", 1, ROOT, (), "origin"),
        ("arbiter/loans", -1, ROOT, (), "tree_size"),
        ("arbiter/loans", MAX_TREE_SIZE + 1, ROOT, (), "tree_size"),
        ("arbiter/loans", True, ROOT, (), "tree_size"),
        ("arbiter/loans", 1, ROOT[:31], (), "root_hash"),
        ("arbiter/loans", 1, ROOT + b"\0", (), "root_hash"),
        ("arbiter/loans", 1, ROOT, ("",), "extensions"),
        ("arbiter/loans", 1, ROOT, ("two\nlines",), "extensions"),
    ],
)
def test_a_note_that_would_be_malformed_is_not_written(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...], field: str
):
    with pytest.raises(InvalidInputError) as refused:
        checkpoint_note(origin, size, root, extensions)
    assert refused.value.field == field


MALFORMED = [
    # (why, note, field, words in the message)
    ("no final newline", f"o\n1\n{ROOT_B64}".encode(), "note", "final newline"),
    ("empty", b"", "note", "final newline"),
    ("two lines", b"o\n1\n", "note", "3"),
    ("not UTF-8", b"\xff\n1\n" + ROOT_B64.encode() + b"\n", "note", "UTF-8"),
    ("empty origin", f"\n1\n{ROOT_B64}\n".encode(), "origin", "empty"),
    ("CRLF lines", f"o\r\n1\r\n{ROOT_B64}\r\n".encode(), "origin", "carriage return"),
    ("CR in the size", f"o\n1\r\n{ROOT_B64}\n".encode(), "tree_size", "carriage return"),
    ("tab in the origin", f"o\tx\n1\n{ROOT_B64}\n".encode(), "origin", "control"),
    ("leading zero", f"o\n01\n{ROOT_B64}\n".encode(), "tree_size", "leading zeroes"),
    ("signed size", f"o\n+1\n{ROOT_B64}\n".encode(), "tree_size", "decimal"),
    ("negative size", f"o\n-1\n{ROOT_B64}\n".encode(), "tree_size", "decimal"),
    ("hex size", f"o\n0x1\n{ROOT_B64}\n".encode(), "tree_size", "decimal"),
    ("spaced size", f"o\n 1\n{ROOT_B64}\n".encode(), "tree_size", "decimal"),
    ("Arabic-Indic digits", f"o\n\u0661\n{ROOT_B64}\n".encode(), "tree_size", "decimal"),
    ("too large", f"o\n{MAX_TREE_SIZE + 1}\n{ROOT_B64}\n".encode(), "tree_size", "above"),
    ("empty size", f"o\n\n{ROOT_B64}\n".encode(), "tree_size", "empty"),
    ("unpadded", f"o\n1\n{ROOT_B64.rstrip('=')}\n".encode(), "root_hash", "base64"),
    ("url-safe", f"o\n1\n{SPEC_ROOT_B64.replace('/', '_')}\n".encode(), "root_hash", "base64"),
    ("hex root", f"o\n1\n{ROOT.hex()}\n".encode(), "root_hash", "48 bytes"),
    ("short root", f"o\n1\n{base64.b64encode(ROOT[:31]).decode()}\n".encode(), "root_hash", "31"),
    ("long root", f"o\n1\n{base64.b64encode(ROOT * 2).decode()}\n".encode(), "root_hash", "64"),
    # "J" is 001001: its two low bits, which padded base64 leaves zero, are set
    ("low bits set", f"o\n1\n{ROOT_B64[:42]}J=\n".encode(), "root_hash", "canonical"),
    ("empty extension", f"o\n1\n{ROOT_B64}\n\nx\n".encode(), "extensions", "empty"),
    ("blank last line", f"o\n1\n{ROOT_B64}\n\n".encode(), "extensions", "empty"),
]


@pytest.mark.parametrize(
    ("note", "field", "words"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_a_malformed_note_is_refused_naming_the_field_at_fault(note: bytes, field: str, words: str):
    with pytest.raises(InvalidInputError) as refused:
        parse_checkpoint_note(note)
    assert refused.value.field == field
    assert words in refused.value.message
