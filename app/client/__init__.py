"""Client side of the wire protocol: stream PCM, receive Results, typed errors."""
