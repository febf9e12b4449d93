"""The HTTP calls of the client (httpx), and what their errors say to a person."""

from __future__ import annotations

from typing import Any

import httpx

from services.client.config import ClientConfig

TIMEOUT_S = 15.0


class ApiError(RuntimeError):
    """An answer that is not the one hoped for: the message is for the driver."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def explain(response: httpx.Response) -> str:
    """A refusal in words: problem details with their field errors, DRF's documents."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:500]}"
    lines = [f"HTTP {response.status_code}"]
    if isinstance(body, dict) and "status" in body and "detail" in body:  # problem+json
        lines[0] += f": {body['detail']}"
        lines += [f"  {e['loc'] or '(plan)'}: {e['reason']}" for e in body.get("errors", [])]
    elif isinstance(body, dict):  # the original API's field -> messages
        for name, messages in body.items():
            for i, message in enumerate(messages if isinstance(messages, list) else [messages]):
                if isinstance(message, dict):  # one per point schedule
                    lines += [f"  {name}[{i}].{k}: {' '.join(v)}" for k, v in message.items()]
                else:
                    lines.append(f"  {name}: {message}")
    return "\n".join(lines)


class Api:
    def __init__(self, config: ClientConfig, transport: httpx.BaseTransport | None = None):
        self.config = config
        self._http = httpx.Client(timeout=TIMEOUT_S, transport=transport)

    def close(self) -> None:
        self._http.close()

    def _headers(self) -> dict[str, str]:
        if not self.config.token:
            raise ApiError("not logged in: run `chargeflow client login` first")
        return {"Authorization": f"Bearer {self.config.token}"}

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(f"cannot reach {url}: {exc}") from exc

    def login(self, user: str, password: str) -> str:
        url = f"{self.config.ingest_url}/auth/token"
        response = self._call("POST", url, data={"username": user, "password": password})
        if response.status_code == 400:
            raise ApiError("wrong user name or password", 400)
        if response.status_code != 200:
            raise ApiError(explain(response), response.status_code)
        token: str = response.json()["access_token"]
        return token

    def market_areas(self) -> list[dict[str, Any]]:
        url = f"{self.config.ingest_url}/market-areas/"
        response = self._call("GET", url, headers=self._headers())
        if response.status_code != 200:
            raise ApiError(explain(response), response.status_code)
        areas: list[dict[str, Any]] = response.json()
        return areas

    def submit(self, document: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        url = f"{self.config.ingest_url}/charging-schedules/"
        response = self._call("POST", url, json=document, headers=self._headers())
        if response.status_code not in (201, 202):
            raise ApiError(explain(response), response.status_code)
        return response.status_code, response.json()

    def decisions(self, day: str | None, vehicle: str | None) -> dict[str, Any]:
        """Every page of the caller's decisions of ``day`` (None: the service's default)."""
        url = f"{self.config.decisions_url}/charging-schedules-decisions/"
        params: dict[str, str] = {}
        if day is not None:
            params["delivery_day"] = day
        if vehicle is not None:
            params["vehicle_id"] = vehicle
        found: dict[str, Any] = {"decisions": []}
        while True:
            response = self._call("GET", url, params=params, headers=self._headers())
            if response.status_code != 200:
                raise ApiError(explain(response), response.status_code)
            page = response.json()
            found["delivery_day"] = page.get("delivery_day", day)
            found["decisions"] += page.get("decisions", [])
            if not page.get("next_cursor"):
                return found
            params["cursor"] = page["next_cursor"]
