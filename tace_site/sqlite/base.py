"""Django's SQLite backend, with the database file readable by its owner only.

Nothing here opens the database file, its -wal or its -shm: POSIX advisory locks
belong to the process, and closing any descriptor of a file drops every lock the
process holds on it, those of its other connections too. Another process could
then take the database for its own and delete the -wal file under them (SQLite's
"How To Corrupt An SQLite Database File", 2.2). The modes are set by path.
"""

import contextlib
import os

from django.db.backends.sqlite3 import base


def make_private(path: str) -> None:
    """Create the file mode 600 if it is missing, whatever the umask; make it 600 if
    not. SQLite gives the -wal and -shm files the database file's mode."""
    try:
        # O_EXCL: a new file, which no connection of this process can have locked.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    for name in (path, path + "-wal", path + "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(name, 0o600)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        name = str(conn_params["database"])
        if name != ":memory:" and not name.startswith("file:"):
            make_private(name)
        return super().get_new_connection(conn_params)
