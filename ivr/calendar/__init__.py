"""Working days on the official Chinese calendar, and the deadlines the city's plan sets for a ticket."""
