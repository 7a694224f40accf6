"""The rejection policy (sync.rejections): how many rejections a run tolerates, what kind of failure
more of them are, and how rejected objects are listed."""

from __future__ import annotations

import pytest

from personio_operator.api.run import ObjectResult
from personio_operator.errors import ErrorKind, SyncError
from personio_operator.sync.rejections import check_rejections, fitted_listing, listing, rejection_limit


def refused(number: int, status: int | None = 400) -> ObjectResult:
    return ObjectResult(
        kind="User",
        action="create",
        key=f"personio:{number}",
        name=f"p{number}@acme.example",
        ok=False,
        error=f"refused {number}",
        rejected=True,
        http_status=status,
    )


def written(number: int) -> ObjectResult:
    return ObjectResult(kind="User", action="create", key=f"personio:{number}", name=f"p{number}@acme.example")


@pytest.mark.parametrize(
    ("planned", "tolerated"), [(0, 5), (1, 5), (100, 5), (599, 5), (600, 6), (1_000, 10), (10_000, 100)]
)
def test_a_run_tolerates_five_rejections_or_one_percent_of_its_changes(planned: int, tolerated: int) -> None:
    assert rejection_limit(planned) == tolerated


def test_up_to_the_limit_the_run_is_not_failed() -> None:
    objects = [refused(n) for n in range(5)] + [written(n) for n in range(5, 100)]
    check_rejections(objects, planned=100, stopped_early=False)  # does not raise


def test_one_more_fails_the_run_as_a_data_error_naming_the_first() -> None:
    objects = [refused(n) for n in range(6)] + [written(n) for n in range(6, 100)]
    with pytest.raises(SyncError) as raised:
        check_rejections(objects, planned=100, stopped_early=True)
    assert raised.value.kind is ErrorKind.DATA
    message = raised.value.message
    assert "rejected 6 of the 100 changes attempted" in message and "(5: 5 or 1 % of the 100 planned" in message
    assert "User create p0@acme.example: refused 0" in message and "no further change was started" in message


def test_only_server_errors_make_it_transient_and_one_refusal_among_them_makes_it_data() -> None:
    with pytest.raises(SyncError) as only_5xx:
        check_rejections([refused(n, 503) for n in range(6)], planned=6, stopped_early=False)
    assert only_5xx.value.kind is ErrorKind.TRANSIENT
    with pytest.raises(SyncError) as mixed:
        check_rejections([refused(n, 503) for n in range(5)] + [refused(9, None)], planned=6, stopped_early=False)
    assert mixed.value.kind is ErrorKind.DATA


def test_failures_that_are_not_rejections_do_not_count() -> None:
    skipped = [written(n).model_copy(update={"ok": False, "error": "the manager has no account"}) for n in range(50)]
    check_rejections(skipped, planned=50, stopped_early=False)  # does not raise


def test_listings_name_the_first_twenty_then_count_the_rest() -> None:
    lines = [f"line {n}" for n in range(23)]
    assert listing(lines) == [*lines[:20], "and 3 more"]
    assert listing(lines[:20]) == lines[:20]


def test_a_one_line_listing_stays_within_its_budget_and_counts_what_it_leaves_out() -> None:
    labels = [f"User create someone-with-a-long-name-{n}@acme.example" for n in range(30)]
    text = fitted_listing(labels, 400)
    assert len(text) <= 400
    listed = text.count("@acme.example")
    assert text.endswith(f"and {30 - listed} more") and 0 < listed < 20
    assert fitted_listing(labels[:2], 400) == "; ".join(labels[:2])
