"""One module per migration, oldest first; exactly one head."""
