"""Outgoing webhooks: endpoints admins register, an outbox written with each change, signed deliveries."""
