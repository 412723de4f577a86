"""The router: pure decisions from a call's facts to a Plan, with no I/O so every case is a table test."""
