"""The gateway's problem documents: the common RFC 9457 problems (services/common/problems.py)
with the gateway's own slugs for invalid plans and an unavailable broker."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from fastapi import FastAPI

from services.common import problems as common
from services.common.problems import PROBLEM_JSON, Problem, ProblemError, dumps

__all__ = [
    "PROBLEM_JSON",
    "SLUGS",
    "Problem",
    "ProblemError",
    "dumps",
    "install",
    "problem_body",
    "problem_response",
]

SLUGS: Mapping[int, str] = {**common.SLUGS, 422: "invalid-plan", 503: "broker-unavailable"}

problem_body = partial(common.problem_body, slugs=SLUGS)
problem_response = partial(common.problem_response, slugs=SLUGS)


def install(app: FastAPI) -> None:
    common.install(app, SLUGS)
