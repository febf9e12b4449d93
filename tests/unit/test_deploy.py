"""docker-compose.yml, Prometheus and Grafana files agree with the code (no Docker here)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY, CollectorRegistry

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
OUR_SERVICES = {"ingest": 8000, "aggregator": 6066, "decisions": 8080, "market": 8090}


def test_compose_has_the_production_like_stack():
    assert {
        "kafka",
        "postgres",
        "prometheus",
        "grafana",
        "migrate",
        *OUR_SERVICES,
    } <= SERVICES.keys()
    assert SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft


def test_compose_services_point_at_compose_infrastructure():
    for name in OUR_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["CHARGEFLOW_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["CHARGEFLOW_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["CHARGEFLOW_DATABASE_URL"]
        assert set(SERVICES[name]["depends_on"]) == {"kafka", "postgres"}


def test_compose_ports_match_design_defaults():
    for name, port in OUR_SERVICES.items():
        assert f"{port}:{port}" in SERVICES[name]["ports"]


def test_compose_commands_name_runnable_modules():
    for name in OUR_SERVICES:
        command = SERVICES[name]["command"]
        assert command[:2] == ["python", "-m"]
        module = command[2]
        assert (ROOT / module.replace(".", "/") / "__main__.py").exists(), (
            f"{module} has no __main__"
        )


def test_compose_mounts_files_that_exist():
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{source} missing"


def test_prometheus_scrapes_every_service_on_its_port():
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {
        t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]
    }
    assert targets == {f"{name}:{port}" for name, port in OUR_SERVICES.items()}


def _exported_metric_names() -> set[str]:
    """Every sample name the services can export, from the collectors they register."""
    import services

    registries = {id(REGISTRY): REGISTRY}
    for info in pkgutil.walk_packages(services.__path__, "services."):
        # __main__ runs a service; Alembic's env.py runs only under Alembic.
        if not info.name.endswith("__main__") and ".migrations" not in info.name:
            module = importlib.import_module(info.name)
            # Some services keep their metrics in their own registry.
            for value in vars(module).values():
                if isinstance(value, CollectorRegistry):
                    registries[id(value)] = value
    names: set[str] = set()
    families = [f for registry in registries.values() for f in registry.collect()]
    for family in families:
        suffixes = {
            "counter": ["_total", "_created"],
            "histogram": ["_bucket", "_sum", "_count", "_created"],
            "summary": ["_sum", "_count", "_created"],
            "gauge": [""],
            "info": ["_info"],
        }.get(family.type, [""])
        names |= {family.name + s for s in suffixes}
    return names


def _dashboard_metric_names() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / "deploy/grafana/dashboards").glob("*.json"):
        text = json.dumps([p.get("targets", []) for p in json.loads(path.read_text())["panels"]])
        found[path.name] = set(re.findall(r"\bchargeflow_[a-z0-9_]+", text))
    return found


def test_grafana_dashboards_use_only_exported_metrics():
    exported = _exported_metric_names()
    dashboards = _dashboard_metric_names()
    assert dashboards, "no dashboards in deploy/grafana/dashboards"
    for name, used in dashboards.items():
        assert used, f"{name} queries no chargeflow metric"
        assert used <= exported, (
            f"{name} uses metrics no service exports: {sorted(used - exported)}"
        )


def test_grafana_provisioning_points_at_prometheus_and_dashboards():
    ds = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert ds["datasources"][0]["url"] == "http://prometheus:9090"
    boards = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/dashboards/chargeflow.yml").read_text()
    )
    assert boards["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
