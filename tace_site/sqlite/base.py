"""Django's SQLite backend, with the database file readable by its owner only."""

import os

from django.db.backends.sqlite3 import base


def make_private(path: str) -> None:
    """Create the file mode 600 if it is missing, whatever the umask; make it 600 if
    not. SQLite gives the -wal and -shm files the database file's mode."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.chmod(path + suffix, 0o600)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        name = str(conn_params["database"])
        if name != ":memory:" and not name.startswith("file:"):
            make_private(name)
        return super().get_new_connection(conn_params)
