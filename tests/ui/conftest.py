"""The offscreen UI fixtures (a qasync loop on Qt's, a whole controller) for every test here."""

from tests.ui.fixtures import controller, qloop

__all__ = ["controller", "qloop"]
