# Commands that do everything on a fresh machine (Python 3.11, pip, make; Go for e2e):
#   make preview   set up .venv and preview specs/sophia.yaml offline (program + policy pack)
#   make test      set up .venv, lint, type-check and run the test suite
#   make e2e       the end-to-end suite on the real engine: builds (once, cached outside the
#                  repository) the pinned Pulumi CLI and Kubernetes control plane from Go
#                  modules, installs openssh-server, then runs the tests marked e2e
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SPEC   ?= specs/sophia.yaml

POLICY_VENV := policies/venv
POLICY_STAMP := $(POLICY_VENV)/.installed-stamp

.PHONY: install preview test lint schema bench clean e2e toolchain policy-venv sshd lock

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

preview: $(STAMP)
	$(BIN)/sophia validate $(SPEC) specs/examples/*.yaml
	$(BIN)/sophia preview $(SPEC)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sophia schema --check specs/sophia.schema.json
	$(BIN)/zizmor --offline --no-progress .github/workflows

test: lint
	$(BIN)/pytest -n auto

# The policy pack's own virtualenv, from its own pinned requirements (what `pulumi preview
# --policy-pack policies` runs it in).
$(POLICY_STAMP): policies/requirements-lock.txt
	$(PYTHON) -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r policies/requirements-lock.txt
	touch $(POLICY_STAMP)

policy-venv: $(POLICY_STAMP)

# requirements-ci.txt: the runtime dependencies with hashes, for the workflows.
lock:
	$(PYTHON) -m venv /tmp/sophia-pip-tools && /tmp/sophia-pip-tools/bin/pip install --quiet pip-tools
	/tmp/sophia-pip-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-find-links --no-header --output-file requirements-ci.txt pyproject.toml
	sed -i '1i # The workflows install exactly these (pip --require-hashes): the runtime dependencies of\n# pyproject.toml with their hashes. Regenerate with `make lock` after changing them.' requirements-ci.txt
	/tmp/sophia-pip-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-find-links --no-header --output-file policies/requirements-lock.txt policies/requirements.txt
	sed -i "1i # The pack's virtualenv installs exactly these (pip --require-hashes): policies/requirements.txt\n# with every dependency and its hashes. Regenerate with \`make lock\` after changing it." policies/requirements-lock.txt

toolchain:
	bash toolchain/build.sh

# Debian's openssh-server, for the real SSH host the bootstrap runs on (root on CI machines).
sshd:
	@command -v sshd >/dev/null 2>&1 || test -x /usr/sbin/sshd || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null; }

e2e: $(STAMP) policy-venv toolchain sshd
	PATH="$$(bash toolchain/build.sh --print):$$PATH" $(BIN)/pytest -m e2e -p no:randomly -x -v

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	$(BIN)/python bench/run.py
	$(BIN)/python bench/spec_load.py
	$(BIN)/python bench/planner.py
	$(BIN)/python bench/mcp_preview.py

schema: $(STAMP)
	$(BIN)/sophia schema --write specs/sophia.schema.json

clean:
	rm -rf $(VENV) $(POLICY_VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
