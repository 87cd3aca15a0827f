"""The restart budget of `nexgen dev`: a service that keeps dying is a crash loop, not something to restart forever."""

from nexgen_assets.dev_services import MAX_RESTARTS, RESTART_WINDOW_S, Restarts


def test_restarts_are_allowed_until_too_many_come_within_the_window():
    restarts = Restarts()

    allowed = [restarts.allowed(float(t)) for t in range(MAX_RESTARTS + 1)]

    assert allowed == [True] * MAX_RESTARTS + [False]
    later = RESTART_WINDOW_S + MAX_RESTARTS + 1.0
    assert [restarts.allowed(later) for _ in range(MAX_RESTARTS + 1)] == [True] * MAX_RESTARTS + [False], (
        "restarts older than the window no longer count"
    )
