"""The agent registry: what each agent is for, who owns it, how reports route, and its success thresholds."""
