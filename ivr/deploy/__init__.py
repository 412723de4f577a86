"""`ivr deploy`: the rules' generated files, prompts and AMI secret put into a running Asterisk, which then reloads
only what changed."""
