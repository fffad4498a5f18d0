"""The review queue: readings a person should check (uncertain ones, an audit share, corrections sent
from the page), kept in SQLite or PostgreSQL, claimed and answered by reviewers, and exported as a
training set. Torch-free: the service writes to it."""
