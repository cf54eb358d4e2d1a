import pytest

from tests.receiver import Receiver


@pytest.fixture
def receiver(settings):
    """A loopback receiver; outgoing HTTP may reach loopback for this test only."""
    settings.VOUCH_OUTBOUND_ALLOW_LOOPBACK = True
    with Receiver() as server:
        yield server


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the block sends after commit, as a real commit would (the test's own
    transaction never commits). With fake_broker, lifecycle hand-offs then run inline."""

    def block():
        return django_capture_on_commit_callbacks(execute=True)

    return block
