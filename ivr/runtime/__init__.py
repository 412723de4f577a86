"""What every long-running command shares: the reactor, signals, rules reload, systemd, logs, a graceful stop."""
