from django.db import migrations

from assessments.audit import drop_append_only_triggers, install_append_only_triggers


def install(apps, schema_editor):
    install_append_only_triggers(schema_editor.connection)


def drop(apps, schema_editor):
    drop_append_only_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("assessments", "0003_roles")]

    operations = [migrations.RunPython(install, drop)]
