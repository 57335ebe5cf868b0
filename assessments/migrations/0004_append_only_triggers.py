from django.db import migrations

# The SQL as it was when this migration landed: later changes to the triggers go
# into migrations of their own, so this one never changes with the live code.
TABLES = [
    "assessments_auditevent",
    "assessments_historicalassessment",
    "assessments_historicalpatient",
]

SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
    for table in TABLES
    for verb in ("update", "delete")
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {table}_no_{verb}" for table in TABLES for verb in ("update", "delete")
]
POSTGRES_INSTALL = [
    """CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
        for table in TABLES
    ),
]
POSTGRES_DROP = [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in TABLES]


def _run(schema_editor, statements):
    with schema_editor.connection.cursor() as cursor:
        for statement in statements.get(schema_editor.connection.vendor, []):
            cursor.execute(statement)


def install(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_INSTALL, "postgresql": POSTGRES_INSTALL})


def drop(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP})


class Migration(migrations.Migration):
    dependencies = [("assessments", "0003_roles")]

    operations = [migrations.RunPython(install, drop)]
