"""The routing rules: routing_rules.yaml loaded, validated and frozen before anything uses it."""
