"""The signed-in home page."""
