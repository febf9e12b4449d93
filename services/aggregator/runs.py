"""Clearing runs of the owner stage: phase 1 at the marker, phase 2 on the market result
(or the fallback after a timeout), and operator what-if runs.

Solves run in a worker thread so the event loop keeps heart-beating to the broker. Day
status moves closed -> bid -> done and each step is written to the changelog, so a
duplicate marker or market result (or a replay after a crash) does not start a second,
different run: phase 1 is re-run only while the day is still "closed", and its run_id
depends only on the plans and the config, so the re-sent bid is the same bid.

A clearing that fails for some plans clears without them (``clearing.clear_day``): they are
rejected with the engine's reason, marked in the state table (so phase 2 and a replay leave
out the same plans), and everyone else is cleared. Only a failure without any plan rejects
the whole day. A run that breaks in any other way ends the day the same way (every plan
rejected with the reason) instead of stopping the stage or retrying for ever.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiokafka.errors import KafkaError

from schemas.base import FieldError
from schemas.config import AuctionConfig
from schemas.events import GateClosureMarker, WhatIfRequested
from schemas.market import MarketResult, area_day_key
from schemas.market_day import DEFAULT_TIMEZONE, gate_closure
from services.aggregator import clearing as c
from services.aggregator import metrics as m
from services.aggregator.culprits import DayFailure
from services.aggregator.deadletters import Unusable, failure_reason
from services.aggregator.state import AreaDay, DayRecord

if TYPE_CHECKING:
    from schemas.auction import AuctionResult
    from services.aggregator.owner import Owner

log = logging.getLogger(__name__)


class Runs:
    def __init__(self, owner: Owner) -> None:
        self.o = owner
        self.cache: dict[tuple[int, AreaDay], c.Prepared] = {}
        self.waiting: set[tuple[int, AreaDay]] = set()  # closed days that cannot clear yet
        self._gauges_at = 0.0
        self._config_version = -1  # retry waiting days only when a config arrived
        self._complained: set[tuple[int, AreaDay]] = set()

    def forget(self, p: int, ad: AreaDay) -> None:
        """The day left the state: drop it from every per-day cache here too."""
        self.cache.pop((p, ad), None)
        self.waiting.discard((p, ad))
        self._complained.discard((p, ad))

    def forget_cache(self) -> None:
        self.cache.clear()
        self.waiting.clear()
        self._config_version = -1
        # Days recovered as "closed" (crash between marker and bid) are retried by timers.
        for p, ad, day in self.o.table.days():
            if day.record is not None and day.record.status == "closed":
                self.waiting.add((p, ad))

    # -- helpers ----------------------------------------------------------------------
    def _config(self, ad: AreaDay) -> AuctionConfig | None:
        area = ad[0]
        config = self.o.configs.get(area)
        why = None
        if config is None:
            why = "no_config"
            log.error(
                "cannot clear %s: no auction-config for market area %s "
                "(publish one: chargeflow config publish FILE.json)",
                area_day_key(*ad),
                area,
            )
        elif config.forecast_for(ad[1]) is None:
            why = "no_forecast"
            log.error(
                "cannot clear %s: auction-config has no price forecast for %s",
                area_day_key(*ad),
                ad[1],
            )
        if why is not None:
            m.CLEARING_REFUSED.labels(area, why).inc()
            m.CONFIG_MISSING.labels(area).set(1)
            return None
        m.CONFIG_MISSING.labels(area).set(0)
        return config

    async def _prepared(self, p: int, ad: AreaDay, config: AuctionConfig) -> c.Prepared:
        prep = self.cache.get((p, ad))
        if prep is None:
            prep = self.cache[(p, ad)] = await self._prepare(p, ad, config)
        return prep

    async def _prepare(self, p: int, ad: AreaDay, config: AuctionConfig) -> c.Prepared:
        """The day's live plans from the state table, re-checked against `config`."""
        day = self.o.table.day(p, ad)
        stored = [
            c.Stored(
                pid,
                e.revision,
                e.vehicle_id,
                e.seq,
                e.raw,
                e.validated_with,
                tuple(FieldError(loc=loc, reason=why) for loc, why in e.excluded),
            )
            for pid, e in day.plans.items()
            if e.raw is not None
        ]
        return await asyncio.to_thread(c.prepare, ad[0], ad[1], config, stored)

    async def _clear(
        self,
        p: int,
        ad: AreaDay,
        prep: c.Prepared,
        config: AuctionConfig,
        phase: int,
        prices: list[float],
        awarded: list[float] | None = None,
        node_capacity_kw: dict[str, float] | None = None,
        keep: bool = True,
    ) -> tuple[AuctionResult, c.Prepared]:
        """Clear the day without the plans the engine fails with. With ``keep`` the plans
        left out are marked in the state (phase 2 and replays leave out the same)."""
        result, out, solves = await asyncio.to_thread(
            c.clear_day,
            config,
            prep,
            phase,
            prices,
            awarded,
            node_capacity_kw,
            self.o.s.aggregator_isolation_max_solves,
        )
        new = {pid: why for pid, why in out.culprits.items() if pid not in prep.culprits}
        if solves > 1:
            m.CLEARING_SOLVES.labels(ad[0]).inc(solves - 1)
        if new:
            m.CULPRITS.labels(ad[0], str(phase)).inc(len(new))
            log.error(
                "clearing %s (phase %d) failed with %d plan(s); cleared without them "
                "in %d solves: %s",
                area_day_key(*ad),
                phase,
                len(new),
                solves,
                "; ".join(f"{pid}: {why[0].reason}" for pid, why in list(new.items())[:5]),
            )
        if keep:
            for pid, why in new.items():
                reasons = [(e.loc, e.reason) for e in why]
                await self.o.log_change(p, self.o.table.exclude(p, ad, pid, reasons))
            if out is not prep:
                self.cache[(p, ad)] = out
        return result, out

    def _now(self) -> datetime:
        return self.o.clock.now()

    # -- phase 1 ----------------------------------------------------------------------
    async def on_marker(self, p: int, marker: GateClosureMarker) -> None:
        ad: AreaDay = (marker.market_area, marker.delivery_day)
        day = self.o.table.day(p, ad)
        if day.record is not None and day.record.status != "closed":
            log.info("duplicate gate-closure marker for %s ignored", area_day_key(*ad))
            return
        if day.record is None:
            record = DayRecord("closed", marker.gate_closure.isoformat(), self._now().isoformat())
            await self.o.log_change(p, self.o.table.set_record(p, ad, record))
        await self.phase1(p, ad)

    async def phase1(self, p: int, ad: AreaDay) -> None:
        self.waiting.discard((p, ad))
        record = self.o.table.day(p, ad).record
        assert record is not None
        if not self.o.table.day(p, ad).live:
            # A day nobody planned for: closed without a run (no config needed).
            await self._done(p, ad, record)
            return
        config = self._config(ad)
        if config is None:
            self.waiting.add((p, ad))
            return
        await self._guarded(p, ad, self._phase1(p, ad, record, config))

    async def _phase1(self, p: int, ad: AreaDay, record: DayRecord, config: AuctionConfig) -> None:
        prep = await self._prepared(p, ad, config)
        now = self._now()
        forecast = config.forecast_for(ad[1]) or []
        t0 = time.perf_counter()
        if prep.plans:
            try:
                result, prep = await self._clear(p, ad, prep, config, 1, forecast)
            except DayFailure as exc:  # deterministic: a retry would fail the same way
                await self._failed(p, ad, prep, exc.cause)
                return
        if not prep.plans:
            # Nothing to bid: every plan (if any) is already rejected; the day is done.
            for d in c.decisions(prep, None, prep.run_id, now):
                await self.o.publish(self.o.names.decisions, d, d.vehicle_id)
            record.run_id = prep.run_id
            await self._done(p, ad, record)
            log.info(
                "%s closed with no valid plans (%d rejected)", area_day_key(*ad), len(prep.rejected)
            )
            return
        m.CLEARING_SECONDS.labels("1").observe(time.perf_counter() - t0)
        m.CLEARING_PLANS.labels(ad[0], "1").set(len(prep.plans))
        m.WELFARE.labels(ad[0], "1").set(result.welfare_eur)
        bid = c.aggregate_bid(result, prep.run_id, config.mtu_minutes, now)
        await self.o.publish(self.o.names.bids, bid, bid.key)
        summary = c.summary(
            result, prep.run_id, config.mtu_minutes, now, rejected=prep.rejected_count
        )
        await self.o.publish(self.o.names.results, summary, summary.key)
        record.status, record.run_id, record.bid_at = "bid", prep.run_id, now.isoformat()
        await self.o.log_change(p, self.o.table.set_record(p, ad, record))
        log.info(
            "phase 1 %s: %d plans, welfare %.2f EUR, bid sent (run %s) in %.2f s",
            area_day_key(*ad),
            len(prep.plans),
            result.welfare_eur,
            prep.run_id,
            time.perf_counter() - t0,
        )

    async def _done(self, p: int, ad: AreaDay, record: DayRecord) -> None:
        record.status, record.done_at = "done", self._now().isoformat()
        await self.o.log_change(p, self.o.table.set_record(p, ad, record))

    async def _guarded(self, p: int, ad: AreaDay, run: Coroutine[Any, Any, None]) -> None:
        """Run a clearing step; if it breaks (not the broker), the day ends: every plan is
        rejected with the reason instead of the stage stopping or retrying for ever."""
        try:
            await run
        except (KafkaError, Unusable):
            raise
        except Exception as exc:
            log.exception("clearing %s broke", area_day_key(*ad))
            config = self.o.configs.get(ad[0])
            try:
                prep = await self._prepared(p, ad, config) if config is not None else None
            except Exception:
                prep = None
            await self._failed(p, ad, prep, exc)

    async def _failed(
        self, p: int, ad: AreaDay, prep: c.Prepared | None, exc: BaseException
    ) -> None:
        """The day cannot clear (without any plan): every plan is rejected with the reason,
        the day is done. Without ``prep`` (the plans could not even be prepared) the
        rejections are built from the identities the plans were stored under."""
        log.error(
            "clearing %s failed, rejecting all its plans: %s",
            area_day_key(*ad),
            exc,
            exc_info=not isinstance(exc, ValueError),
        )
        m.CLEARING_REFUSED.labels(ad[0], "engine_error").inc()
        record = self.o.table.day(p, ad).record
        assert record is not None
        reason = f"clearing_failed: {failure_reason(exc)}"[:1900]
        run_id = record.run_id or (prep.run_id if prep is not None else "clearing-failed")
        now = self._now()
        if prep is None:
            why = [FieldError(loc="", reason=reason)]
            decisions = [
                c.unreadable_rejection(ad[0], ad[1], s, run_id, why, now)
                for s in self._stored_identities(p, ad)
            ]
        else:
            decisions = c.decisions(prep, None, run_id, now, reason)
        for d in decisions:
            await self.o.publish(self.o.names.decisions, d, d.vehicle_id)
        record.run_id = run_id
        await self._done(p, ad, record)
        self.cache.pop((p, ad), None)

    def _stored_identities(self, p: int, ad: AreaDay) -> list[c.Stored]:
        day = self.o.table.day(p, ad)
        return [
            c.Stored(pid, e.revision, e.vehicle_id, e.seq, e.raw)
            for pid, e in day.plans.items()
            if e.raw is not None
        ]

    async def expired(self, p: int, ad: AreaDay) -> None:
        """The day is forgotten without ever being done: its plans are rejected (a day of an
        area that never got an auction-config, or a day stuck before its bid)."""
        day = self.o.table.find(p, ad)
        if day is None or not day.live:
            return
        why = [FieldError(loc="", reason="expired: the day was never cleared (retention passed)")]
        now = self._now()
        for s in self._stored_identities(p, ad):
            d = c.unreadable_rejection(ad[0], ad[1], s, "expired", why, now)
            await self.o.publish(self.o.names.decisions, d, d.vehicle_id)
        log.error("%s expired with %d plans never cleared", area_day_key(*ad), day.live)

    # -- phase 2 ----------------------------------------------------------------------
    async def on_market(self, p: int, result: MarketResult) -> None:
        ad: AreaDay = (result.market_area, result.delivery_day)
        day = self.o.table.find(p, ad)
        record = day.record if day is not None else None
        if record is None or record.run_id is None:
            raise Unusable(
                "run_id", f"no bid was sent for {area_day_key(*ad)}: unknown or unclosed day"
            )
        if record.run_id != result.run_id:
            raise Unusable(
                "run_id",
                f"{result.run_id!r:.200} is not the run of {area_day_key(*ad)} ({record.run_id})",
            )
        if record.status != "bid":
            log.info("market result %s run %s again: ignored", area_day_key(*ad), result.run_id)
            return
        await self.phase2(p, ad, result)

    async def phase2(self, p: int, ad: AreaDay, result: MarketResult | None) -> None:
        config = self._config(ad)
        record = self.o.table.day(p, ad).record
        if config is None or record is None or record.run_id is None:
            return
        await self._guarded(p, ad, self._phase2(p, ad, result, config, record))

    async def _phase2(
        self,
        p: int,
        ad: AreaDay,
        result: MarketResult | None,
        config: AuctionConfig,
        record: DayRecord,
    ) -> None:
        assert record.run_id is not None
        prep = await self._prepared(p, ad, config)
        run_id, now = record.run_id, self._now()
        forecast = config.forecast_for(ad[1]) or []
        requested = sum(c.requested_kwh(pl) for pl in prep.plans)
        prices, awarded, fallback = c.market_inputs(result, forecast, requested)
        if fallback:
            m.FALLBACKS.labels(ad[0]).inc()
            log.warning(
                "phase 2 %s without a market result (%s): fallback %s",
                area_day_key(*ad),
                "timeout" if result is None else result.status,
                config.parameters.fallback,
            )
        t0 = time.perf_counter()
        if fallback and config.parameters.fallback == "reject":
            decisions = await asyncio.to_thread(
                c.encoded_decisions, prep, None, run_id, now, "no_market_result"
            )
        else:
            try:
                res, prep = await self._clear(p, ad, prep, config, 2, prices, awarded)
            except DayFailure as exc:
                await self._failed(p, ad, prep, exc.cause)
                return
            m.CLEARING_SECONDS.labels("2").observe(time.perf_counter() - t0)
            m.CLEARING_PLANS.labels(ad[0], "2").set(len(prep.plans))
            m.WELFARE.labels(ad[0], "2").set(res.welfare_eur)
            # Built and serialised in a thread: 100 000 decisions take seconds of CPU, and the
            # event loop must keep heart-beating meanwhile.
            decisions = await asyncio.to_thread(c.encoded_decisions, prep, res, run_id, now)
            summary = c.summary(
                res,
                run_id,
                config.mtu_minutes,
                now,
                fallback=fallback,
                rejected=prep.rejected_count,
            )
            await self.o.publish(self.o.names.results, summary, summary.key)
        for key, value in decisions:
            await self.o.send(self.o.names.decisions, value, key)
        record.fallback = fallback
        await self._done(p, ad, record)
        closure = datetime.fromisoformat(record.gate_closure)
        m.CLOSURE_TO_DECISIONS.observe(max((now - closure).total_seconds(), 0.0))
        self.cache.pop((p, ad), None)
        log.info(
            "phase 2 %s: %d decisions (run %s, fallback %s) in %.2f s",
            area_day_key(*ad),
            len(decisions),
            run_id,
            fallback,
            time.perf_counter() - t0,
        )

    # -- what-if ----------------------------------------------------------------------
    async def on_what_if(self, p: int, cmd: WhatIfRequested) -> None:
        ad: AreaDay = (cmd.market_area, cmd.delivery_day)
        config = self._config(ad)
        if config is None:
            raise Unusable(
                "market_area", f"no auction-config (or forecast) for {area_day_key(*ad)}"
            )
        prep = await self._prepare(p, ad, config)  # not cached: a what-if changes nothing
        prices = cmd.price_forecast_eur_mwh or config.forecast_for(ad[1]) or []
        if not prep.plans:
            log.warning("what-if %s for %s: no valid plans", cmd.request_id, area_day_key(*ad))
            return
        try:
            res, prep = await self._clear(
                p, ad, prep, config, 1, prices, None, cmd.node_capacity_kw, keep=False
            )
        except DayFailure as exc:
            raise Unusable("", f"what-if cannot clear: {failure_reason(exc.cause)}") from exc
        summary = c.summary(
            res,
            cmd.request_id,
            config.mtu_minutes,
            self._now(),
            what_if=True,
            rejected=prep.rejected_count,
        )
        await self.o.publish(self.o.names.results, summary, summary.key)

    # -- timers -----------------------------------------------------------------------
    async def timers(self) -> None:
        now = self._now()
        if self.waiting and self._config_version != self.o.configs.version:
            self._config_version = self.o.configs.version
            for p, ad in sorted(self.waiting):
                if p in self.o.assigned:
                    await self.phase1(p, ad)
        for p, ad, day in self.o.table.days():
            rec = day.record
            if rec is None or rec.status != "bid" or rec.bid_at is None:
                continue
            config = self.o.configs.get(ad[0])
            timeout = config.parameters.market_result_timeout_s if config else 1800.0
            if now >= datetime.fromisoformat(rec.bid_at) + timedelta(seconds=timeout):
                await self.phase2(p, ad, None)  # guarded: a broken run ends the day
        if time.monotonic() - self._gauges_at > 1.0:
            self._gauges_at = time.monotonic()
            self.o.update_gauges()
            self._unconfigured(now)

    def _unconfigured(self, now: datetime) -> None:
        """Say so (log, metrics) when plans of an area without auction-config are due.

        Without a config the gate closure itself is unknown; the default one (12:00
        Europe/Warsaw on D-1, DESIGN §3) decides when to complain. Clearing starts when a
        config arrives (the leader then sends the marker).
        """
        for p, ad, day in self.o.table.days():
            if (p, ad) in self._complained or day.record is not None:
                continue
            if self.o.configs.get(ad[0]) is not None or not day.live:
                continue
            if now >= gate_closure(ad[1], DEFAULT_TIMEZONE):
                self._complained.add((p, ad))
                log.error(
                    "cannot clear %s: no auction-config for market area %s "
                    "(publish one: chargeflow config publish FILE.json)",
                    area_day_key(*ad),
                    ad[0],
                )
                m.CLEARING_REFUSED.labels(ad[0], "no_config").inc()
                m.CONFIG_MISSING.labels(ad[0]).set(1)
