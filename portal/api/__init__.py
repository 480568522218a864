"""The JSON API v1 for agents and integrations: bearer tokens, the same services as the pages."""
