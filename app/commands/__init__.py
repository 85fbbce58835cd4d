"""Command implementations behind `app.cli` (one module per subcommand)."""
