"""`ivr deliver`: each data link's stub events pushed to the department's system over HTTPS, signed, retried."""
