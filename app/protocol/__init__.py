"""The wire protocol, sans I/O: messages, handshake parameters, close codes, PCM helpers."""
