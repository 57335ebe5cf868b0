"""The SQLite database and its -wal and -shm files are their owner's only."""

import os
import subprocess
import sys

from django.conf import settings

# Writes in a transaction and, with the connection still open (so the -wal and
# -shm files exist), prints the mode of each file.
WRITER = """
import os, stat
import django
django.setup()
from django.contrib.auth.models import Group
from django.db import connection, transaction
with transaction.atomic():
    Group.objects.create(name="private")
name = connection.settings_dict["NAME"]
for path in (name, name + "-wal", name + "-shm"):
    print(oct(stat.S_IMODE(os.stat(path).st_mode)))
"""


def test_the_database_files_are_mode_600_whatever_the_umask(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    umask = {"preexec_fn": lambda: os.umask(0)}
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input"], env=env, check=True, timeout=60, **umask)
    written = subprocess.run(
        [sys.executable, "-c", WRITER],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        **umask,
    )
    assert written.stdout.split() == ["0o600"] * 3
