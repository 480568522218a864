"""Data safety: backup and restore, a person's own data, and anonymising a departed person."""
