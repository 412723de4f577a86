"""The Asterisk Manager Interface side: wire protocol, and (to come) the monitor that keeps queue state."""
