"""Agent-specific training: modules and their versions, knowledge checks, assignments, certificates."""
