"""The wallboard for call-centre leads (`ivr web`): the page, its live push, and `/metrics` for Prometheus."""
