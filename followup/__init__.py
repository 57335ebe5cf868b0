"""Follow-up events on the patient's record: TACE sessions, recurrences, visits, death.

The app holds the events' forms, services, views and URLs. The FollowUpEvent model
stays in assessments for now: its table, its history table and the audit chain's
triggers and seals were created by the assessments migrations and name it as
assessments.FollowUpEvent, and the permissions the roles give are assessments'
(assessments.add_followupevent, ...). Moving it would rename the tables and the
permissions in every database, for no change in behaviour.
"""
