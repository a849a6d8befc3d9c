# The two commands that matter: `make run` and `make test`. Both bootstrap a fresh
# Debian machine (system packages, .venv, translations) before doing their job.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED_SCREENS := $(abspath ../shared/qt/screens.json)
SCREENS := $(if $(wildcard $(SHARED_SCREENS)),$(SHARED_SCREENS),$(abspath tests/qt/screens.json))

# Debian packages: Qt's xcb/offscreen needs, PDF tools for tests, the CJK font source, QR decoder,
# and PostgreSQL, which the server tests start on loopback (tests/helpers/postgres.py).
# chromium + chromium-driver: the department page (hallserver/department.py) is driven in headless
# Chromium over WebDriver (tests/integration/test_department_page.py).
# sane-utils: scanimage, the counter's way to a scanner on Linux (hallclient/scanners.py); its
# virtual "test" scanner lets the tests scan a real page through SANE.
APT_PACKAGES := libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libxkbcommon0 \
	libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 poppler-utils fonts-droid-fallback zbar-tools \
	postgresql libpulse0 chromium chromium-driver sane-utils

.PHONY: run test lint typecheck pytest bootstrap system-deps catalogs clean bench

bootstrap: .stamp-system .stamp-venv catalogs

.stamp-system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@touch $@

.stamp-venv: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

catalogs: .stamp-venv
	@shopt -s nullglob; for po in resources/translations/*/LC_MESSAGES/hallclient.po; do \
	  mo=$${po%.po}.mo; \
	  if [ ! -f "$$mo" ] || [ "$$po" -nt "$$mo" ]; then $(BIN)/pybabel compile -i "$$po" -o "$$mo" || exit 1; fi; \
	done

# Re-extract every marked string into the .pot and merge it into each language's .po. printing/
# translates with `t = translator(lang)`, hence `-k t`. New msgids come in untranslated (no fuzzy
# guesses) and strings gone from the source are dropped; translate, then `make catalogs`.
.PHONY: messages
messages: .stamp-venv
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k t --no-location --sort-output \
	  --project hallclient -o resources/translations/hallclient.pot .
	$(BIN)/pybabel update -i resources/translations/hallclient.pot -d resources/translations -D hallclient \
	  --no-fuzzy-matching --ignore-obsolete

# The committed OpenAPI document; a test fails when the code and this file drift apart.
.PHONY: openapi
openapi: .stamp-venv
	$(BIN)/python -c "from hallserver.app import OPENAPI_FILE, openapi_document; OPENAPI_FILE.write_text(openapi_document(), encoding='utf-8')"

run: bootstrap
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  $(BIN)/hallclient demo; \
	else \
	  echo "No display found: playing the scripted counter day offscreen."; \
	  QT_QPA_PLATFORM="offscreen:configfile=$(SCREENS)" $(BIN)/hallclient demo --headless --out demo-out && \
	  echo "Receipts, screenshots and summary are in $$(pwd)/demo-out"; \
	fi

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: bootstrap
	$(BIN)/mypy

# pytest's exit code 5 means "no tests collected": not a broken build.
pytest: bootstrap
	@QT_QPA_PLATFORM="offscreen:configfile=$(SCREENS)" $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; rc=0; fi; exit $$rc

test: lint typecheck pytest

bench: bootstrap
	QT_QPA_PLATFORM="offscreen:configfile=$(SCREENS)" $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .stamp-* demo-out .mypy_cache .ruff_cache .pytest_cache

# Installers (installer/README.md). `make dist`: the PyInstaller onedir bundle in $(DIST_DIR)/hallclient;
# `make deb`: the .deb beside it; `make nsis`: the Windows installer script compiled with Debian's
# makensis (against a stand-in payload unless NSIS_PAYLOAD names a bundle built on Windows).
DIST_DIR ?= dist
BUILD_DIR ?= build
DEB_LEVEL ?= 19
NSIS_PAYLOAD ?=
# binutils: PyInstaller strips binaries and build_deb.py reads their links with objdump. The .deb's
# Depends name the packages of the libraries the bundle links to, so those must be installed where it
# is built (fresh Debian images lack libpulse0 and libspeechd2, which Qt's speech and audio link to).
DIST_APT_PACKAGES := binutils
DEB_APT_PACKAGES := binutils libpulse0 libspeechd2
NSIS_APT_PACKAGES := nsis

define apt_install
@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

.PHONY: dist deb nsis
.stamp-dist-venv: pyproject.toml .stamp-venv
	$(BIN)/pip install -q -e '.[test,dist]'
	@touch $@

dist: bootstrap .stamp-dist-venv
	$(call apt_install,$(DIST_APT_PACKAGES))
	$(BIN)/pyinstaller installer/hallclient.spec --noconfirm --log-level WARN \
	  --distpath "$(DIST_DIR)" --workpath "$(BUILD_DIR)/pyinstaller"
	@du -sh "$(DIST_DIR)/hallclient"

deb: dist
	$(call apt_install,$(DEB_APT_PACKAGES))
	$(BIN)/python installer/linux/build_deb.py --bundle "$(DIST_DIR)/hallclient" --out "$(DIST_DIR)" --level $(DEB_LEVEL)

nsis: .stamp-venv
	$(call apt_install,$(NSIS_APT_PACKAGES))
	$(BIN)/python installer/windows/build_nsis.py --out "$(DIST_DIR)" --work "$(BUILD_DIR)/nsis" \
	  $(if $(NSIS_PAYLOAD),--payload "$(NSIS_PAYLOAD)")
