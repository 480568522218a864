"""In-app notifications and the emails that go with them."""
