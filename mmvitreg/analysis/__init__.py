"""Analysis library code shared by tools and hooks."""
