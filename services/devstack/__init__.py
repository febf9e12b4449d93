"""The development toolbox: the embedded broker and PostgreSQL, the supervisor that runs every
service as a child process, the demo, the fleet simulator and the example data.

Tooling, not runtime: no service imports it, and it imports no service's module (it starts
them with `python -m services.<name>` and talks to them over HTTP, Kafka and the registry).
tests/unit/test_house_rules.py holds both rules.
"""
