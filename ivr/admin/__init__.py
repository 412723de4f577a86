"""Tools for the admin who changes the rules: what a change does to callers, the whole routing on one picture,
and which numbers end up at a queue or seat."""
