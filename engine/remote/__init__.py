"""Remote use: `hull --url URI` / `--connection NAME` / CONTAINER_HOST runs commands
against another Hull (or Podman) service through its libpod REST API, as
`podman --remote` does.

- destination.py   URI parsing and which destination an invocation uses
- connections.py   named connections (Podman 5's podman-connections.json)
- client.py        httpx over a unix socket; ssh through `ssh -L` stream-local forwarding;
                   raw hijacked streams for attach/exec; HTTP errors -> HullError
- frames.py        Docker's 8-byte multiplexed stream framing
- services/        remote twins of the engine/services modules the CLI calls
                   (same function names and return types), chosen by Context.service()
"""
