"""Benchmark machinery: method interface, registry, runner, records, metrics, gate, reports, CLI.

Nothing here is a model component; model building blocks live in :mod:`clusterbench.blocks`.
"""
