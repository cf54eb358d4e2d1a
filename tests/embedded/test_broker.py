"""The embedded filesystem broker never hands a worker a half-written message (config/broker.py)."""

from kombu import Connection

from config.broker import Transport


def test_it_writes_each_message_whole_under_a_name_the_reader_takes(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    with Connection("filesystem://", transport=Transport, transport_options=options) as conn:
        channel = conn.default_channel
        channel._put("text", {"body": "hello"})
        assert [p.name.endswith(".text.msg") for p in folder.iterdir()] == [True]
        # A message caught while it is being written keeps a name the reader skips.
        (folder / "999_partial.text.msg.part").write_text("")
        assert channel._get("text") == {"body": "hello"}
        assert [p.name for p in folder.iterdir()] == ["999_partial.text.msg.part"]


def test_celery_uses_it_for_filesystem_urls():
    from config.celery import app

    with app.connection_for_write("filesystem://") as conn:
        assert isinstance(conn.transport, Transport)
