# syntax=docker/dockerfile:1
#
# rthdr serving image: ONNX Runtime + FastAPI + Uvicorn, the shipped model baked in.
# No PyTorch, no compilers in the final stage; runs as UID 10001.
#
#   docker build -t rthdr:1.0.0 .
#   docker run --rm -p 8000:8000 --read-only --tmpfs /tmp --tmpfs /tmp/metrics rthdr:1.0.0
#
# The image serves the package's own models (rthdr/models/digitnet.int8.onnx: the shipped network in
# INT8, which `rthdr release` writes). Another model: mount it and point RTHDR_MODEL at it
#   docker run ... -v "$PWD/models:/models:ro" -e RTHDR_MODEL=/models/my.int8.onnx rthdr:1.0.0
# (a NAME.card.json beside NAME.onnx or NAME.int8.onnx is served by GET /api/v1/model).
# Arguments after the image name go to `rthdr serve`, e.g. `--workers 2`; prefer RTHDR_PORT over
# --port so the HEALTHCHECK below follows the port. See docs/deployment.md.

# The base images are build arguments. Docker Hub's by default; `make image` builds with bases made
# from Debian's packages instead (scripts/image-bases.sh), for machines that reach no registry:
#   --build-arg PYTHON_IMAGE=localhost/rthdr-python:bookworm --build-arg NODE_IMAGE=localhost/rthdr-node:bookworm
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- builder: a virtual environment with the package and its serving dependencies only ----------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Dependencies first, from pyproject.toml alone, so that editing src/ reuses this layer.
# `project.dependencies` = the serving dependencies: never the [train] extra (torch) or [test].
# Every one ships manylinux wheels, so no compiler is needed here either.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt

# README.md* : the build reads it when present and must not fail when it is not.
COPY pyproject.toml README.md* ./
COPY src ./src
# The package itself, with its served models as package data (the INT8 model, also the browser's
# on-device download, the float network it was quantised from, their card and the number reader's
# one-digit check; never the training weights), then proof: dependencies consistent, the app builds
# with its default models, torch absent.
# pip and setuptools go: the running service never needs them.
RUN pip install . \
    && pip check \
    && python -c "import cv2, onnxruntime; from rthdr.api.main import create_app; from rthdr.core.inference import Classifier; create_app(); Classifier()" \
    && if python -c "import torch" 2>/dev/null; then echo "torch must not be in the serving image" >&2; exit 1; fi \
    && python -m pip uninstall --yes pip setuptools

# ---- web: ONNX Runtime Web for the page's on-device mode (the three files it loads) -------------
# npm's postinstall (scripts/vendor-ort.js) picks them out of node_modules into the package's
# static/vendor/ort; no devDependencies (the linters) here.
FROM ${NODE_IMAGE} AS web
WORKDIR /web
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# ---- runtime ----------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ARG VERSION=1.0.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="rthdr" \
      org.opencontainers.image.description="Real-time handwritten digit recognition: ONNX Runtime behind a REST API and a drawing page" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/rthdr/rthdr" \
      org.opencontainers.image.documentation="https://github.com/rthdr/rthdr/blob/main/docs/deployment.md"

# A fixed, unprivileged UID/GID (Kubernetes runAsNonRoot checks it numerically).
RUN groupadd --system --gid 10001 rthdr \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin rthdr

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
COPY --from=web /web/src/rthdr/api/static/vendor/ort /app/vendor/ort

# /tmp/metrics must exist before the first request (prometheus_client fails on a missing folder).
# It is created here for a plain `docker run`; with a read-only root mount a tmpfs/emptyDir at
# /tmp AND one at /tmp/metrics (compose.yaml and deploy/k8s do).
RUN install -d -o 10001 -g 10001 -m 0755 /tmp/metrics

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RTHDR_HOST=0.0.0.0 \
    RTHDR_PORT=8000 \
    RTHDR_ORT_WEB_DIR=/app/vendor/ort \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics

USER 10001:10001
EXPOSE 8000

# No curl in the image: Python's urllib; any non-2xx answer or no answer raises -> exit 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('RTHDR_PORT', '8000'), timeout=4)"]

# Workers: RTHDR_WORKERS (default 0: one per available CPU, the container's CPU limit if it has one).
ENTRYPOINT ["rthdr", "serve"]
