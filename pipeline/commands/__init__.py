"""Sub-commands of the salesradar CLI: each module has add_arguments() and run()."""
