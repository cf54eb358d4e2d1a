"""Where files live. Originals are private (never served); renditions are public.

FileField resolves its storage once, at import. `PrivateStorage` looks up STORAGES["private"] on
every call instead, so a deployment (or a test) that changes STORAGES is always obeyed.
"""

from django.core.files.storage import Storage, storages


class PrivateStorage(Storage):
    @property
    def _backend(self) -> Storage:
        return storages["private"]

    def open(self, name, mode="rb"):
        return self._backend.open(name, mode)

    def save(self, name, content, max_length=None):
        return self._backend.save(name, content, max_length=max_length)

    def delete(self, name):
        return self._backend.delete(name)

    def exists(self, name):
        return self._backend.exists(name)

    def listdir(self, path):
        return self._backend.listdir(path)

    def size(self, name):
        return self._backend.size(name)

    def path(self, name):
        return self._backend.path(name)

    def url(self, name):
        raise ValueError("Originals are private and have no URL.")

    def get_available_name(self, name, max_length=None):
        return self._backend.get_available_name(name, max_length=max_length)

    def generate_filename(self, filename):
        return self._backend.generate_filename(filename)

    def get_modified_time(self, name):
        return self._backend.get_modified_time(name)

    def deconstruct(self):
        return ("testimonials.storage.PrivateStorage", (), {})


def private_storage() -> Storage:
    return PrivateStorage()
