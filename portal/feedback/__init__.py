"""The closed feedback loop: reports about agents, triage, routing, action, and the reporter's answer."""
