# kubenet-lab: the two commands are `make lab` and `make test`.
# Debian's interpreter first: the venv must be runnable by the user JupyterLab runs as (an
# interpreter under root's home, as pyenv's, is not); python3-venv comes with system-deps.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV   := .venv
BIN    := $(VENV)/bin
NAME   ?= kubenet
PORT   ?= 8888
# Language of the notebook JupyterLab opens first (make lab LANG=fr).
NB_LANG := $(if $(filter fr%,$(LANG)),fr,en)

.PHONY: class class-down system-deps-class shell reset notebooks notebooks-instructor images root-check lab test test-unit lint system-deps system-deps-test venv down clean

# As root: the lab; then JupyterLab and its kernels as the user who typed sudo (SUDO_USER), with
# their own copy of the kubeconfig. The URL is printed once JupyterLab answers.
lab: root-check system-deps venv
	$(BIN)/labkit up --name $(NAME)
	$(BIN)/labkit jupyter --name $(NAME) --port $(PORT) --notebook-lang $(NB_LANG)

# A whole class on this server (README, "A class on one server"): JupyterHub on CLASS_PORT for the
# logins listed in ROSTER, one isolated lab per learner made at first login; `make class-down` removes it all.
ROSTER     ?= class.txt
CLASS_IP   ?= 0.0.0.0
CLASS_PORT ?= 8000
class: root-check system-deps system-deps-class venv
	$(BIN)/labkit class up --roster $(ROSTER) --ip $(CLASS_IP) --port $(CLASS_PORT)

class-down: root-check venv
	$(BIN)/labkit class down

system-deps-class:
	@MAKE_TARGET=class scripts/install-system-deps.sh --class

# A shell with labkit and kubectl pointed at the lab (after `sudo make lab`; no root needed).
shell:
	@$(BIN)/labkit env --name $(NAME) --shell

reset: root-check venv
	$(BIN)/labkit reset --name $(NAME)

# Why root, in the words of what was asked: a class (users and namespaces) or the lab (namespaces).
ROOT_WHY_EN = $(if $(filter class%,$(MAKECMDGOALS)),A class creates Unix users and network namespaces,The embedded lab creates network namespaces)
ROOT_WHY_FR = $(if $(filter class%,$(MAKECMDGOALS)),Une classe crée des utilisateurs Unix et des espaces de noms réseau,Le lab embarqué crée des espaces de noms réseau)
root-check:
	@if [ "$$(id -u)" -ne 0 ]; then \
	  echo "$(ROOT_WHY_EN): it needs root. Run: sudo make $(or $(MAKECMDGOALS),lab)"; \
	  echo "$(ROOT_WHY_FR) : il faut root. Lancez : sudo make $(or $(MAKECMDGOALS),lab)"; \
	  exit 1; fi

test: system-deps-test venv
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest -q -rs

# ruff, mypy (strict on the pure packages) and the import-linter layer contracts, all configured
# in pyproject.toml; a few seconds. Run it before every landing.
lint: venv
	$(BIN)/ruff check labkit bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test-unit: venv
	$(BIN)/python -m pytest -q tests/unit

notebooks: venv
	$(BIN)/python -m labkit.notebook_build

# The instructor's build: each solution as a code cell, in notebooks/instructor/{en,fr} (not in git);
# built before `make class`, the roster's admins find it in their notebooks/instructor/.
notebooks-instructor: venv
	$(BIN)/python -m labkit.notebook_build --instructor

images: venv
	$(BIN)/python scripts/make_images.py

down: root-check venv
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
