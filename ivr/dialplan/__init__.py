"""Asterisk configuration generated from the rules: inbound routing with an engine-less fallback, queues, linkage
and the AMI user, as files the admin's own configuration includes."""
