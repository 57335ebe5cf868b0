import os
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the database to PATH while the app runs: an SQLite "
        "file (online backup API) or a pg_dump custom-format archive (for pg_restore)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *, path: Path, database: str, **options):
        connection = connections[database]
        try:
            # Made here, mode 600 whatever the umask: it holds every patient's record.
            # O_EXCL: never overwrite a file, even one made after a check.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            raise CommandError(
                _("%(path)s already exists: choose a new file.") % {"path": path}
            ) from None
        try:
            self.copy(connection, path)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        self.stdout.write(
            _("Backed up the %(vendor)s database to %(path)s.")
            % {"vendor": connection.vendor, "path": path}
        )

    def copy(self, connection, path: Path) -> None:
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            with sqlite3.connect(path) as copy:
                connection.connection.backup(copy)
            copy.close()
        elif connection.vendor == "postgresql":
            # Django's own psql arguments (host, port, user, database) and environment
            # (PGPASSWORD, PGSSLMODE, ...): the password never appears on a command line.
            args, env = connection.client.settings_to_cmd_args_env(
                connection.settings_dict, ["--format=custom", f"--file={path}"]
            )
            args[0] = "pg_dump"
            try:
                subprocess.run(args, env={**os.environ, **(env or {})}, check=True)
            except FileNotFoundError:
                raise CommandError(_("pg_dump is not installed.")) from None
            except subprocess.CalledProcessError as error:
                raise CommandError(
                    _("pg_dump failed with exit code %(code)s.") % {"code": error.returncode}
                ) from None
        else:
            raise CommandError(
                _("No backup method for the %(vendor)s database.") % {"vendor": connection.vendor}
            )
