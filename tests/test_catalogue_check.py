"""The app refuses to start without the compiled Chinese catalogue, or with one compiled
from an older .po: Django would serve English to a Chinese browser and say nothing."""

import os
import shutil
import subprocess
import sys
import time

import polib
import pytest
from django.conf import settings

from assessments.checks import catalogues_compiled

PO = settings.BASE_DIR / "locale/zh_Hans/LC_MESSAGES/django.po"


@pytest.fixture
def locale(tmp_path, settings):
    """A copy of the catalogue's .po in a locale folder of its own, with no .mo."""
    folder = tmp_path / "locale"
    (folder / "zh_Hans/LC_MESSAGES").mkdir(parents=True)
    shutil.copy(PO, folder / "zh_Hans/LC_MESSAGES/django.po")
    settings.LOCALE_PATHS = [folder]
    return folder / "zh_Hans/LC_MESSAGES/django.po"


def compile_catalogue(po_path):
    polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))


def test_the_suites_catalogue_is_compiled_from_its_po():
    assert catalogues_compiled() == []


def test_a_missing_catalogue_is_an_error_naming_the_command(locale):
    (error,) = catalogues_compiled()
    assert error.id == "assessments.E001" and error.is_serious()
    assert "django.mo is missing" in error.msg
    assert f"make -B {locale.with_suffix('.mo')}" in error.hint


def test_a_catalogue_compiled_from_its_po_passes(locale):
    compile_catalogue(locale)
    assert catalogues_compiled() == []


@pytest.mark.parametrize(
    "change",
    [
        lambda text: text + '\nmsgid "A new sentence"\nmsgstr "一个新句子。"\n',
        lambda text: text.replace('msgstr "规则集"', 'msgstr "规则"', 1),
    ],
    ids=["entry added", "translation changed"],
)
def test_a_catalogue_older_than_its_po_is_an_error_whatever_the_files_times(locale, change):
    compile_catalogue(locale)
    text = locale.read_text()
    assert change(text) != text
    locale.write_text(change(text))
    # The .mo looks newer than the .po, as a clone or a copy may leave them.
    later = time.time() + 3600
    os.utime(locale.with_suffix(".mo"), (later, later))
    (error,) = catalogues_compiled()
    assert "django.mo is not compiled from the current django.po" in error.msg


def test_manage_py_check_and_gunicorn_refuse_to_start_without_it(tmp_path):
    (tmp_path / "locale/zh_Hans/LC_MESSAGES").mkdir(parents=True)
    shutil.copy(PO, tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po")
    (tmp_path / "uncompiled_settings.py").write_text(
        f"from tace_site.settings import *  # noqa\nLOCALE_PATHS = [{str(tmp_path / 'locale')!r}]\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "uncompiled_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(settings.BASE_DIR)]),
    }
    run = {"env": env, "cwd": settings.BASE_DIR, "capture_output": True, "text": True}
    check = subprocess.run([sys.executable, "manage.py", "check"], **run, timeout=60)
    assert check.returncode == 1 and "(assessments.E001)" in check.stderr
    gunicorn = str(settings.BASE_DIR / ".venv/bin/gunicorn")
    if not os.path.exists(gunicorn):
        gunicorn = shutil.which("gunicorn")
    started = subprocess.run([gunicorn, "tace_site.wsgi", "--check-config"], **run, timeout=60)
    assert started.returncode != 0 and "django.mo is missing" in started.stderr
