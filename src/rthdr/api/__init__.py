"""The HTTP service: FastAPI app, routes, schemas and the drawing page."""
