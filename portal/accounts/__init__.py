"""People: users, roles, teams, sign-in sessions and set-password links."""
