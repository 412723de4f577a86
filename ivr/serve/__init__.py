"""`ivr serve`: the FastAGI service on Twisted, which only moves bytes between Asterisk and the plan executor."""
