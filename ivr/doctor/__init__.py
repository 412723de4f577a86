"""`ivr doctor`: does the switch run what the YAML says? Each check one line, ok or FAIL and what to do."""
