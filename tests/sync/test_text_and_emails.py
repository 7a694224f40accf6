"""The text cleaning every value sent to the app goes through, and the one e-mail check."""

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scim2_models import Email

from personio_operator.safe_text import MAX_TEXT_LENGTH, ZWJ, ZWNJ, clean_text, shown
from personio_operator.scim.emails import InvalidEmailError, email_key, normalized_email

HOSTILE_EMAILS = [
    "a..b@example.com",
    "a@b",
    "dot@example.com.",
    "x@localhost",
    "a@[127.0.0.1]",
    "<script>@example.com",
    "nul\x00@example.com",
    "zero\u200bwidth@example.com",
    "bidi\u202eevil@example.com",
    "joiner\u200d@example.com",
    '"quoted"@example.com',
    "line\nbreak@example.com",
    "a@example.com\r\nBcc: x@example.com",
    "x" * 300 + "@example.com",
]

# Emoji sequences and names that need the joiners
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl
PERSIAN = "\u0645\u0647\u0631\u200c\u0633\u0627"  # Mehrsa, with a zero-width non-joiner
MALAYALAM = "ന്\u200d"  # chillu written with ZWJ
HINDI = "क्\u200dष"


@pytest.mark.parametrize("address", HOSTILE_EMAILS)
def test_every_hostile_address_is_refused_by_us_and_by_the_payload_layer(address: str) -> None:
    with pytest.raises(InvalidEmailError):
        normalized_email(address)
    if "\n" not in address and len(address) < 254:  # the payload layer must refuse it too, or we are too strict
        with pytest.raises(ValidationError):
            Email(value=address.strip())


def test_an_address_with_a_display_name_is_refused_though_the_payload_layer_would_rewrite_it() -> None:
    with pytest.raises(InvalidEmailError):
        normalized_email("Anna <anna@example.com>")
    assert Email(value="Anna <anna@example.com>").value == "anna@example.com"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.emails(), st.text(max_size=80), st.builds(lambda a, b: f"{a}@{b}", st.text(), st.text())))
def test_what_we_accept_the_payload_layer_stores_unchanged(address: str) -> None:
    try:
        normal = normalized_email(address)
    except InvalidEmailError:
        return
    assert Email(value=normal).value == normal  # accepted, and not rewritten: a rerun compares equal
    assert normalized_email(normal) == normal


def test_domains_are_compared_in_one_normal_form() -> None:
    assert normalized_email("müller@xn--bcher-kva.de") == normalized_email("Müller@BÜCHER.de") == "müller@bücher.de"
    assert email_key("müller@xn--bcher-kva.de") == "müller@bücher.de"
    assert email_key("Anna@Example.COM") == "Anna@example.com"  # the local part keeps its case
    assert email_key("not an address") == "not an address"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[31mAnna\x1b[0m", "Anna"),
        ("\x1b]8;;https://evil.example\x07Anna\x1b]8;;\x07", "Anna"),
        ("An\x00na\x7f\x9b", "Anna"),
        ("\u202eanna\u202c \u2066Maria\u2069", "anna Maria"),
        ("An\u200bna\u00ad\ufeff", "Anna"),
        (" Anna\n\tMaria\u2028 ", "Anna Maria"),
        (f"Anna {FAMILY}", f"Anna {FAMILY}"),
        (PERSIAN, PERSIAN),
        (MALAYALAM, MALAYALAM),
        (HINDI, HINDI),
        (f"{ZWJ}Anna {ZWNJ}Maria {ZWJ}", "Anna Maria"),
        ("Cafe\u0301", "Café"),
    ],
)
def test_clean_text_removes_controls_and_keeps_joiners(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.integers(min_value=1, max_value=300))
def test_clean_text_is_bounded_stable_and_free_of_controls(raw: str, limit: int) -> None:
    text = clean_text(raw, limit)
    assert len(text) <= limit
    assert clean_text(text, limit) == text
    assert all(char in (ZWJ, ZWNJ) or unicodedata.category(char)[0] != "C" for char in text)


def test_shown_is_short_and_printable() -> None:
    text = shown("\x1b[2J" + "A" * 10_000)
    assert text.isprintable() and len(text) <= 80 and text.endswith("…")
    assert len(clean_text("A" * 10_000)) == MAX_TEXT_LENGTH
