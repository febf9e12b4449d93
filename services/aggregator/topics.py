"""Topic and group names of the aggregator, with the configurable prefix applied.

Besides the public topics of DESIGN §4 the aggregator owns three topics (and the dead-letter
topic ``<topic>.dlq`` of each topic it consumes):
- ``aggregator-by-day``: plans, cancellations, gate-closure markers, market results and
  what-if commands re-keyed by ``area/day`` so that one partition holds a whole day;
- ``aggregator-state-changelog`` (compacted): the state table, co-partitioned with it;
- ``auction-commands``: operator commands (``WhatIfRequested``), key ``area/day``.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common import kafka
from services.common.dlq import dlq_topic
from services.common.kafka import TopicSpec

BY_DAY = "aggregator-by-day"
CHANGELOG = "aggregator-state-changelog"
COMMANDS = "auction-commands"

# Header "k" on the by-day topic says what the value is.
KIND_PLAN = b"plan"
KIND_CANCEL = b"cancel"
KIND_MARKER = b"marker"
KIND_MARKET = b"market"
KIND_WHATIF = b"whatif"


@dataclass(frozen=True)
class Names:
    prefix: str = ""
    group: str = "chargeflow-aggregator"

    def t(self, name: str) -> str:
        return self.prefix + name

    @property
    def plans(self) -> str:
        return self.t(kafka.CHARGING_PLANS)

    @property
    def dlq(self) -> str:
        return self.t(kafka.CHARGING_PLANS_DLQ)

    @property
    def config(self) -> str:
        return self.t(kafka.AUCTION_CONFIG)

    @property
    def bids(self) -> str:
        return self.t(kafka.AGGREGATE_BIDS)

    @property
    def market(self) -> str:
        return self.t(kafka.MARKET_RESULTS)

    @property
    def results(self) -> str:
        return self.t(kafka.AUCTION_RESULTS)

    @property
    def decisions(self) -> str:
        return self.t(kafka.SCHEDULE_DECISIONS)

    @property
    def by_day(self) -> str:
        return self.t(BY_DAY)

    @property
    def changelog(self) -> str:
        return self.t(CHANGELOG)

    @property
    def commands(self) -> str:
        return self.t(COMMANDS)

    @property
    def intake_group(self) -> str:
        return f"{self.prefix}{self.group}-intake"

    @property
    def owner_group(self) -> str:
        return f"{self.prefix}{self.group}"

    @property
    def checkpoint_group(self) -> str:
        """Holds the changelog restore checkpoints as committed offsets (checkpoint.py)."""
        return f"{self.prefix}{self.group}-changelog"


# Every topic the aggregator reads or writes. by-day and changelog must have the same
# partition count: the changelog partition of a record is its by-day partition.
# Each consumed topic has its dead-letter topic (charging-plans.dlq is one of kafka.TOPICS).
OWN_TOPICS = (
    *kafka.TOPICS,
    TopicSpec(BY_DAY),
    TopicSpec(CHANGELOG, compacted=True),
    TopicSpec(COMMANDS),
    TopicSpec(dlq_topic(kafka.MARKET_RESULTS)),
    TopicSpec(dlq_topic(COMMANDS)),
    TopicSpec(dlq_topic(BY_DAY)),
)
