from printcloud.protocol.retry_hint import (
    CLOSE_SERVICE_RESTART,
    CLOSE_TRY_AGAIN_LATER,
    MAX_RETRY_AFTER,
    retry_after,
    with_retry_after,
)


def test_a_hint_written_by_the_server_is_read_back_by_the_client() -> None:
    reason = with_retry_after("server restarting", 3.44)
    assert reason == "server restarting; retry_after=3.4"
    assert retry_after(CLOSE_SERVICE_RESTART, reason) == 3.4
    assert retry_after(CLOSE_TRY_AGAIN_LATER, with_retry_after("busy", 0.0)) == 0.0


def test_only_the_restart_and_try_later_closes_carry_a_hint() -> None:
    assert retry_after(1000, "bye; retry_after=5.0") is None
    assert retry_after(4000, "replaced; retry_after=5.0") is None
    assert retry_after(None, "retry_after=5.0") is None


def test_a_reason_without_a_readable_hint_gives_none() -> None:
    assert retry_after(CLOSE_TRY_AGAIN_LATER, "") is None
    assert retry_after(CLOSE_TRY_AGAIN_LATER, None) is None
    assert retry_after(CLOSE_TRY_AGAIN_LATER, "retry_after=soon") is None
    assert retry_after(CLOSE_TRY_AGAIN_LATER, "retry_after=-3") is None


def test_a_huge_hint_is_capped() -> None:
    assert retry_after(CLOSE_TRY_AGAIN_LATER, "retry_after=99999999") == MAX_RETRY_AFTER


def test_the_reason_fits_a_close_frame() -> None:
    reason = with_retry_after("é" * 200, 1.0)
    assert len(reason.encode()) <= 123
    assert retry_after(CLOSE_TRY_AGAIN_LATER, reason) == 1.0
