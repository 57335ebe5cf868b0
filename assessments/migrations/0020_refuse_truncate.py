from django.db import migrations

# TRUNCATE fires no row trigger: refuse it on the audit tables and the records with a
# statement trigger (PostgreSQL; SQLite has no TRUNCATE). The SQL is inline so this
# migration never changes with the live code.
TABLES = [
    "assessments_auditevent",
    "assessments_historicalassessment",
    "assessments_historicalpatient",
    "assessments_historicalfollowupevent",
    "assessments_assessment",
    "assessments_patient",
    "assessments_followupevent",
]

INSTALL = [
    """CREATE OR REPLACE FUNCTION refuse_truncate() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% is never truncated', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()"
        for table in TABLES
    ),
]
DROP = [
    *(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS refuse_truncate()",
]


def _run(schema_editor, statements):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def install(apps, schema_editor):
    _run(schema_editor, INSTALL)


def drop(apps, schema_editor):
    _run(schema_editor, DROP)


class Migration(migrations.Migration):
    dependencies = [("assessments", "0019_smart_audit_actions")]

    operations = [migrations.RunPython(install, drop)]
