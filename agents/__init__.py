"""Faust wiring: each module connects one stage of pipeline/ to its topics, nothing more."""
