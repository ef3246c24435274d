"""Thin file-level wrappers: read the inputs, call one library step, write the outputs.

The Snakemake rules call these and nothing else, so a rule is only its inputs, outputs
and parameters. Every output is written to a temporary sibling and renamed into place.
"""
