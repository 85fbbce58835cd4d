# Captionist: `make run` starts the desktop app, `make test` runs every check headless.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv run test lint unit e2e bench mutation bundle bundle-test deb icons speaker-model vad-model screenshots clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	# The speaker encoder's source weights, for its parity test; --no-deps: no torch, librosa.
	$(PY) -m pip install -q --no-deps resemblyzer==0.1.4
	@touch $(STAMP)

venv: $(STAMP)

run: venv
	$(VENV)/bin/captionist

lint: venv
	$(VENV)/bin/ruff check app tests bench packaging tools
	$(VENV)/bin/ruff format --check app tests bench packaging tools
	$(VENV)/bin/mypy
	# The hosted-CI workflow (unrun here): checked against the GitHub workflow schema.
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

# Each Qt platform needs its own process (it is fixed once a QApplication exists):
# offscreen unit/integration, then end-to-end (real model, servers, node), then the X11 suite
# (it starts Xvfb + openbox + xcompmgr) and the audio suite (PulseAudio virtual devices).
PYTEST := $(PY) -m pytest -q -p no:cacheprovider
test: lint
	QT_QPA_PLATFORM=offscreen $(PYTEST) -m "not e2e and not x11 and not audio"
	QT_QPA_PLATFORM=offscreen $(PYTEST) -m "e2e and not x11 and not audio"
	$(PYTEST) tests/ui/x11
	QT_QPA_PLATFORM=offscreen $(PYTEST) tests/audio/pulse

# A one-folder bundle in dist/captionist/ (PyInstaller), smoke-tested with --selftest.
bundle: venv
	$(PY) -m pip install -q -e '.[bundle]'
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build packaging/captionist.spec
	cd /tmp && QT_QPA_PLATFORM=offscreen $(CURDIR)/dist/captionist/captionist --selftest
	@du -sh dist/captionist | sed 's/^/bundle size: /'
	@echo "five largest parts (MB):"; du -sm dist/captionist/_internal/* | sort -rn | head -5

bundle-test:
	CAPTIONIST_BUNDLE_TESTS=1 $(PYTEST) tests/bundle

# dist/captionist_<version>_amd64.deb from the bundle (`make bundle` first): /opt/captionist,
# /usr/bin/captionist, desktop entry, metainfo, icons; Depends: from the bundle's ELF files.
deb:
	$(PY) packaging/make_deb.py

icons: venv
	$(PY) packaging/make_icons.py

# The README's pictures (docs/images/), from the real app on a private X server.
screenshots: venv
	$(PY) -m tools.screenshots

# Rebuild resources/models/ge2e_speaker_encoder.npz from resemblyzer's weights (numpy only, no
# torch), then pin the sha256 it prints in app/server/speakers/encoder.py and
# tests/server/speakers/test_encoder.py. onnx is for the tests only: they rebuild the ONNX model the app
# used to ship and check the numpy net against it in onnxruntime.
speaker-model: venv
	$(PY) -m pip install -q -e '.[speaker-model]'
	$(PY) -m pip install -q --no-deps resemblyzer==0.1.4
	$(PY) packaging/convert_ge2e.py

# Rebuild resources/models/silero_vad_v6.npz from faster-whisper's silero_vad_v6.onnx (onnx reads
# it; the app runs it in numpy), then pin the sha256 it prints in app/server/asr/silero_net.py.
vad-model: venv
	$(PY) packaging/convert_silero.py

bench: venv
	$(PY) bench/streaming.py

# Mutation testing of the pure modules against their fast unit tests ([tool.mutmut] in
# pyproject.toml says which). Not part of `make test` or CI: ~10 minutes on one worker.
# mutmut keeps its state in mutants/ and retests only what changed; `mutmut browse` shows survivors.
mutation: venv
	$(VENV)/bin/mutmut run --max-children 1
	$(VENV)/bin/mutmut results --all true | $(PY) bench/mutation_summary.py

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .pytest_cache .ruff_cache mutants
