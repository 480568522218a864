"""What every domain package shares: database, security, mail, time, errors. Imports no domain package."""
