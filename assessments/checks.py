"""System checks run by manage.py check, migrate and runserver, and at gunicorn's start
(tace_site/wsgi.py): the app refuses to start on a catalogue that is not compiled.

Without a compiled catalogue (.mo), Django serves English to a Chinese browser and
says nothing. The .mo must hold exactly the .po's translated entries: compared by
content, not by time, since a clone or a copy sets the files' times as it goes.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core import checks


def _entries(catalogue) -> set[tuple]:
    return {
        (e.msgctxt, e.msgid, e.msgid_plural, e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in catalogue
        if e.msgid
    }


def stale_catalogues() -> list[tuple[Path, str]]:
    """Each .po of the LOCALE_PATHS whose .mo is missing or not compiled from it, and why."""
    stale = []
    for folder in settings.LOCALE_PATHS:
        for po_path in sorted(Path(folder).glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if not mo_path.exists():
                stale.append((po_path, "is missing"))
                continue
            translated = polib.pofile(str(po_path)).translated_entries()
            if _entries(translated) != _entries(polib.mofile(str(mo_path))):
                stale.append((po_path, f"is not compiled from the current {po_path.name}"))
    return stale


def _shown(path: Path) -> Path:
    """The path from the project folder, where make runs, if it is in it."""
    return path.relative_to(settings.BASE_DIR) if path.is_relative_to(settings.BASE_DIR) else path


@checks.register(checks.Tags.translation)
def catalogues_compiled(app_configs=None, **kwargs) -> list[checks.Error]:
    errors = []
    for po_path, why in stale_catalogues():
        po, mo = _shown(po_path), _shown(po_path.with_suffix(".mo"))
        errors.append(
            checks.Error(
                f"The translation catalogue {mo} {why}: pages would be served untranslated.",
                hint=f"Compile it with GNU gettext: make -B {mo} (or msgfmt --check -o {mo} {po}).",
                id="assessments.E001",
            )
        )
    return errors
