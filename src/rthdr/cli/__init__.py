"""The `rthdr` command: one module per command, each parsing its flags and calling the library."""
