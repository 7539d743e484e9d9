"""The ground floor: settings, database, migrations, errors, secrets, logs, tenants and users.

It imports nothing of Atende above it."""
