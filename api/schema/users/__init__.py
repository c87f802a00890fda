"""People: who is asking, and creating users with bearer tokens."""
