"""The Asterisk FastAGI side of the engine: wire protocol, plan executor and call outcomes."""
