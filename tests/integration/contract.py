"""Run `st run --checks all` (the schemathesis CLI, as a user would) against a live service.

The service's own OpenAPI document is written to a file, with ``example`` values put on
path and query parameters so that the examples phase reaches real resources (seeded
decisions, an accepted plan) and the 200 answers are checked too, not only the 404s of
random ids. The CLI gets the repository's schemathesis.toml (``--config-file``) and runs in
the test's temporary directory, where it keeps its cache (``.schemathesis/``). The run is
bounded by ``max_examples`` per operation and phase.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from services.devstack.children import free_port

REPO = Path(__file__).resolve().parents[2]
ST = str(Path(sys.executable).parent / "st")


def with_examples(document: dict[str, Any], examples: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` whose parameters named in ``examples`` carry that example."""
    doc = json.loads(json.dumps(document))
    for operations in doc["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in examples:
                    parameter["example"] = examples[parameter["name"]]
    return doc


async def run_st(
    document: dict[str, Any],
    base_url: str,
    token: str,
    directory: Path,
    max_examples: int = 15,
    timeout_s: float = 240,
) -> str:
    """The CLI's output; AssertionError with it if it found anything (exit code not 0)."""
    path = directory / "openapi.json"
    path.write_text(json.dumps(document))
    process = await asyncio.create_subprocess_exec(
        ST, "--config-file", str(REPO / "schemathesis.toml"),
        "run", str(path), "--url", base_url, "--checks", "all",
        "-H", f"Authorization: Bearer {token}",
        "--max-examples", str(max_examples), "--workers", "1",
        "--generation-database", "none", "--suppress-health-check", "all",
        cwd=directory, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    text = output.decode(errors="replace")
    assert process.returncode == 0, f"st run found something (exit {process.returncode}):\n{text}"
    return text


class Served:
    """An app served by uvicorn on a free port, in the test's event loop."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Served:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        assert self.task is not None
        await asyncio.wait_for(self.task, timeout=15)
