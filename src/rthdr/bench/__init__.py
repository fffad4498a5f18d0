"""`rthdr bench`: the model alone and the service over HTTP, under load, side by side with a git revision."""
