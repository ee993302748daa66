"""The lab's BPF programs (C sources compiled by clang when a lab starts) and their maps."""
