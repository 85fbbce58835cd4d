"""The caption overlay: the floating window, its look, its keys and where it goes."""
