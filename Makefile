# kubenet-lab: the two commands are `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NAME   ?= kubenet
PORT   ?= 8888
# Language of the notebook JupyterLab opens first (make lab LANG=fr).
NB_LANG := $(if $(filter fr%,$(LANG)),fr,en)

.PHONY: notebooks images root-check lab test test-unit system-deps system-deps-test venv down clean

TOKEN  := $(shell python3 -c 'import secrets; print(secrets.token_hex(16))')

lab: root-check system-deps venv
	$(BIN)/labkit up --name $(NAME)
	@echo ""
	@echo "  JupyterLab: http://127.0.0.1:$(PORT)/lab/tree/$(NB_LANG)/00-welcome.ipynb?token=$(TOKEN)"
	@echo ""
	LABKIT_LAB=$(NAME) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) --allow-root \
	  --ServerApp.root_dir=notebooks --ServerApp.default_url=/lab/tree/$(NB_LANG)/00-welcome.ipynb \
	  --IdentityProvider.token=$(TOKEN)

root-check:
	@if [ "$$(id -u)" -ne 0 ]; then \
	  echo "make lab starts the embedded lab, which creates network namespaces: it needs root."; \
	  echo "Run: sudo make lab"; exit 1; fi

test: system-deps-test venv
	$(BIN)/python -m pytest -q -rs

test-unit: venv
	$(BIN)/python -m pytest -q tests/unit

notebooks: venv
	$(BIN)/python -m labkit.notebook_build

images: venv
	$(BIN)/python scripts/make_images.py

down: venv
	$(BIN)/labkit down --name $(NAME)

system-deps:
	@MAKE_TARGET=lab scripts/install-system-deps.sh

system-deps-test:
	@MAKE_TARGET=test scripts/install-system-deps.sh --test

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

# Slides (slides/README.md): the engine comes from npm, pinned by slides/package-lock.json and
# installed once into slides/node_modules; after that the build needs no network.
.PHONY: slides
slides: slides/node_modules/.installed
	cd slides && node build.mjs

slides/node_modules/.installed: slides/package.json slides/package-lock.json
	cd slides && npm ci --no-audit --no-fund --loglevel=error
	touch $@
