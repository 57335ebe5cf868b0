"""The database triggers that keep the audit tables append-only and the records undeleted."""

# Tables nobody may UPDATE or DELETE, administrators included.
APPEND_ONLY_TABLES = [
    "assessments_auditevent",
    "assessments_historicalassessment",
    "assessments_historicalpatient",
    "assessments_historicalfollowupevent",
]
# Tables whose rows are voided, never deleted (migration 0008).
NEVER_DELETED_TABLES = [
    "assessments_assessment",
    "assessments_patient",
    "assessments_followupevent",
]

_SQLITE_TRIGGERS = [
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for table in APPEND_ONLY_TABLES
        for verb in ("update", "delete")
    ),
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} rows are voided, never deleted'); END"
        for table in NEVER_DELETED_TABLES
    ),
]
_POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
        for table in APPEND_ONLY_TABLES
    ),
    """CREATE OR REPLACE FUNCTION refuse_record_delete() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% rows are voided, never deleted', TG_TABLE_NAME; END;
    $$ LANGUAGE plpgsql""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_record_delete()"
        for table in NEVER_DELETED_TABLES
    ),
    # TRUNCATE fires no row trigger: a statement trigger of its own (SQLite has none).
    """CREATE OR REPLACE FUNCTION refuse_truncate() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% is never truncated', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()"
        for table in APPEND_ONLY_TABLES + NEVER_DELETED_TABLES
    ),
]


def install_append_only_triggers(connection) -> None:
    """Refuse UPDATE, DELETE and TRUNCATE on the audit tables and DELETE and TRUNCATE
    on the records, below the application. After migrations too: SQLite drops a table's
    triggers when a schema change rebuilds it."""
    statements = {"sqlite": _SQLITE_TRIGGERS, "postgresql": _POSTGRES_TRIGGERS}
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)


def drop_append_only_triggers(connection) -> None:
    """Only for the test suite, whose database is emptied between some tests."""
    with connection.cursor() as cursor:
        for table in APPEND_ONLY_TABLES:
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            elif connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        for table in NEVER_DELETED_TABLES:
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            elif connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}")
        if connection.vendor == "postgresql":
            for table in APPEND_ONLY_TABLES + NEVER_DELETED_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
