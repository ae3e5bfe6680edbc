"""Process registry: each process is a module with one Process subclass."""
