"""The console's live side: blocking engine readers run in threads, their output
handed to the websocket consumers' event loop (see docs/architecture.md, "The
console's live parts")."""
