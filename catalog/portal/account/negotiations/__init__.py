"""The consumer console's contract negotiations: the caller's negotiations, each with the steps it may take, its
agreement, and starting one from a conditional dataset's page."""
