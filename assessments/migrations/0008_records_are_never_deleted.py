from django.db import migrations

# Patients and assessments are voided, never deleted: refuse DELETE below the app.
# The SQL is inline so this migration never changes with the live code.
TABLES = ["assessments_assessment", "assessments_patient"]

SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} rows are voided, never deleted'); END"
    for table in TABLES
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {table}_no_delete" for table in TABLES]
POSTGRES_INSTALL = [
    """CREATE OR REPLACE FUNCTION refuse_record_delete() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% rows are voided, never deleted', TG_TABLE_NAME; END;
    $$ LANGUAGE plpgsql""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_record_delete()"
        for table in TABLES
    ),
]
POSTGRES_DROP = [
    *(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS refuse_record_delete()",
]


def _run(schema_editor, statements):
    with schema_editor.connection.cursor() as cursor:
        for statement in statements.get(schema_editor.connection.vendor, []):
            cursor.execute(statement)


def install(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_INSTALL, "postgresql": POSTGRES_INSTALL})


def drop(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP})


class Migration(migrations.Migration):
    dependencies = [("assessments", "0007_audit_record_changed_action")]

    operations = [migrations.RunPython(install, drop)]
