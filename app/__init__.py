"""Captionist: live captions for calls and meetings."""

import os as _os

# numpy's BLAS threads fight CTranslate2's for the cores during a decode (measured: 0.30 CPU-s
# per decode with them, 0.20 without); our numpy work is small, so one thread is enough.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
APP_NAME = "captionist"
