"""The `ivr` command: thin wrappers that call the parts and print for an admin."""
