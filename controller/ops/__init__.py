"""Running a centre: backups and restore, the event log archive, on-site diagnosis."""
