"""Flywheel's store: models, engine/session factories, repositories and migrations.

Nothing here talks to Discord. Repositories take a session and never commit: the caller
(a service) owns the transaction.
"""
