# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test check venv lint typecheck js pytest system train evaluate bench image image-test clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: $(STAMP)  ## serve the web app and API at http://127.0.0.1:8000 with the bundled model
	$(BIN)/rthdr serve

test: $(STAMP) system lint typecheck js pytest  ## set up, then lint, type-check and run every test: Python and the page's JavaScript

check: $(STAMP) lint typecheck  ## the fast loop, about a minute: lint, types and the tests not marked slow or browser
	$(BIN)/pytest -q -m "not slow and not browser"

venv: $(STAMP)  ## create .venv with the package, training and test extras

$(STAMP): pyproject.toml package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[train,test,batch,bench]'
	npm ci --no-audit --no-fund --loglevel=error  # ONNX Runtime Web for on-device recognition
	touch $@

system:  ## Debian packages: chromium for the browser tests (never a browser download), wrk for load tests, postgresql for the review queue's tests, fonts (Latin, Devanagari, Arabic) and Hershey's pen fonts for the character corpora (rthdr/data/fonts.py's PACKAGES)
	@[ -x $(CHROMIUM) ] && command -v wrk >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && \
		[ -d /usr/share/hershey-fonts ] && [ -f /usr/share/fonts/truetype/breip/Breip.ttf ] && \
		[ -f /usr/share/fonts/truetype/quicksand/Quicksand-Regular.ttf ] && [ -f /usr/share/fonts/truetype/Sarai/Sarai.ttf ] && \
		[ -f /usr/share/fonts/truetype/fonts-arabeyes/ae_Salem.ttf ] && \
		[ -f /usr/share/fonts/truetype/gnutypewriter/GNUTypewriter.ttf ] || \
		{ $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium wrk postgresql \
			hershey-fonts-data fonts-breip fonts-cabinsketch fonts-comic-neue fonts-dancingscript \
			fonts-dejavu-core fonts-ecolier-court fonts-femkeklaver fonts-freefont-ttf fonts-humor-sans \
			fonts-liberation2 fonts-quicksand fonts-sil-andika fonts-staypuft fonts-tlwg-purisa-ttf \
			fonts-tomsontalks fonts-urw-base35 \
			fonts-bwht fonts-dkg-handwriting fonts-kristi fonts-kaushanscript fonts-leckerli-one \
			fonts-opendyslexic fonts-open-sans fonts-cantarell fonts-go fonts-inconsolata \
			fonts-crosextra-carlito fonts-linuxlibertine fonts-ebgaramond fonts-jura fonts-oxygen \
			fonts-hack fonts-opendin fonts-gnutypewriter \
			fonts-arabeyes fonts-farsiweb fonts-gargi fonts-hosny-amiri fonts-kacst fonts-kacst-one \
			fonts-lohit-deva fonts-lohit-deva-marathi fonts-nakula fonts-sahadeva fonts-samyak-deva fonts-sarai \
			fonts-sil-harmattan fonts-sil-lateef fonts-sil-scheherazade; }

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy src

js: $(STAMP)  ## the page's JavaScript: ESLint, Prettier, and node --test against the golden fixtures
	npm run --silent lint
	npm test

# Where podman is installed, the tests include the image's (and build it first); elsewhere they leave
# it out, and `make image-test` installs podman and runs it.
HAVE_PODMAN := $(shell command -v podman)

pytest: $(STAMP) $(if $(HAVE_PODMAN),image)
	$(BIN)/pytest $(if $(HAVE_PODMAN),,-m "not image")

train: $(STAMP)  ## retrain the shipped model (15-40 minutes on 2 cores)
	$(BIN)/rthdr train --out runs/full

evaluate: $(STAMP)  ## measure the shipped model on the MNIST test set
	$(BIN)/rthdr evaluate --out reports/evaluation

bench: $(STAMP) system  ## measure model and HTTP latency and throughput into docs/results/benchmarks.md
	$(BIN)/rthdr bench

# The container image, built with podman on bases made from Debian's packages (no registry needed).
# runc, not crun, and the two ulimits: what works on these machines' kernels (docs/deployment.md).
IMAGE ?= localhost/rthdr:latest
PODMAN := $(SUDO) podman --runtime runc --cgroup-manager=cgroupfs
ULIMITS := --ulimit nofile=1024:1024 --ulimit nproc=1024:1024

image:  ## build $(IMAGE) with podman, on Debian base images made by scripts/image-bases.sh
	@command -v podman >/dev/null && command -v debootstrap >/dev/null && command -v runc >/dev/null || \
		{ $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q podman debootstrap runc; }
	$(SUDO) PODMAN="$(PODMAN)" bash scripts/image-bases.sh
	$(PODMAN) build --format docker --network host $(ULIMITS) \
		--volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
		--volume $(CURDIR)/deploy/podman/pip.conf:/etc/pip.conf:ro \
		--volume $(CURDIR)/deploy/podman/npmrc:/root/.npmrc:ro \
		--build-arg PYTHON_IMAGE=localhost/rthdr-python:bookworm --build-arg NODE_IMAGE=localhost/rthdr-node:bookworm \
		--build-arg REVISION=$$(git rev-parse --short HEAD) --build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) \
		--tag $(IMAGE) .

image-test: $(STAMP) image  ## build the image, then run it for real (tests/deploy/test_image.py); the log goes to docs/results/image-test.txt
	bash -o pipefail -c "RTHDR_IMAGE=$(IMAGE) $(BIN)/pytest -m image -v -s tests/deploy/test_image.py 2>&1 | tee docs/results/image-test.txt"

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
