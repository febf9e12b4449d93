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
    assert _server_properties()["process.roles"] == "broker,controller"  # KRaft


def test_compose_services_point_at_compose_infrastructure():
    for name in OUR_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["CHARGEFLOW_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["CHARGEFLOW_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["CHARGEFLOW_DATABASE_URL"]
        # Kafka's users, topics and ACLs are in place before any service starts.
        assert SERVICES[name]["depends_on"] == {
            "kafka-init": {"condition": "service_completed_successfully"},
            "postgres": {"condition": "service_healthy"},
        }


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


# -- Kafka access control (DESIGN §4 Access) and secrets (issue 10 items 6 and 7) ------------

KAFKA_DIR = ROOT / "deploy/kafka"
VAR = re.compile(r"\$\{([A-Z0-9_]+)(:?[-?])?([^}]*)\}")


def _rows(name: str) -> list[list[str]]:
    lines = (KAFKA_DIR / name).read_text().splitlines()
    return [line.split() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _acls() -> list[tuple[str, set[str], str, str, str]]:
    """(principal, operations, resource, pattern, name) of deploy/kafka/acls.txt."""
    return [
        (p, set(ops.split(",")), kind, pat, name) for p, ops, kind, pat, name in _rows("acls.txt")
    ]


def _allowed(principal: str, operation: str, kind: str, name: str) -> bool:
    implied = {"Describe": {"Describe", "Read", "Write"}}.get(operation, {operation})
    return any(
        p == principal
        and ops & implied
        and k == kind
        and (n == name if pat == "literal" else name.startswith(n))
        for p, ops, k, pat, n in _acls()
    )


def _writers(topic: str) -> set[str]:
    return {p for p, *_ in _acls() if _allowed(p, "Write", "topic", topic)}


def _server_properties() -> dict[str, str]:
    lines = (KAFKA_DIR / "server.properties").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {k.strip(): v.strip() for k, v in pairs}


def test_kafka_listeners_all_authenticate_and_nothing_is_allowed_without_an_acl():
    props = _server_properties()
    protocols = dict(item.split(":") for item in props["listener.security.protocol.map"].split(","))
    listeners = {item.split("://")[0] for item in props["listeners"].split(",")}
    assert {protocols[name] for name in listeners} == {"SASL_PLAINTEXT"}
    assert props["listener.name.client.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:admin"
    assert props["auto.create.topics.enable"] == "false"
    # The admin password is filled in at start-up, never committed.
    assert "@KAFKA_ADMIN_PASSWORD@" in props["listener.name.client.scram-sha-512.sasl.jaas.config"]
    assert SERVICES["kafka"]["command"] == ["/deploy/kafka/start.sh"]
    assert "--command-config /tmp/admin.properties" in SERVICES["kafka"]["healthcheck"]["test"][1]


def test_every_service_authenticates_as_its_own_kafka_user():
    passwords = set()
    for name in OUR_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["CHARGEFLOW_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert env["CHARGEFLOW_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["CHARGEFLOW_KAFKA_USERNAME"] == name
        var = VAR.fullmatch(env["CHARGEFLOW_KAFKA_PASSWORD"])
        assert var and var.group(1) == f"KAFKA_{name.upper()}_PASSWORD" and var.group(2) == ":?"
        passwords.add(var.group(1))
        # kafka-init creates exactly that user with exactly that password.
        assert (
            SERVICES["kafka-init"]["environment"][var.group(1)] == env["CHARGEFLOW_KAFKA_PASSWORD"]
        )
    assert len(passwords) == len(OUR_SERVICES)
    assert (
        "for service in ingest aggregator decisions market;" in (KAFKA_DIR / "init.sh").read_text()
    )


def test_only_the_owner_of_a_topic_may_write_it():
    assert _writers("aggregate-bids") == {"aggregator"}
    assert _writers("auction-results") == {"aggregator"}
    assert _writers("schedule-decisions") == {"aggregator"}
    assert _writers("aggregator-by-day") == {"aggregator"}
    assert _writers("aggregator-state-changelog") == {"aggregator"}
    assert _writers("market-results") == {"market"}
    assert _writers("auction-config") == {"decisions"}
    assert _writers("charging-plans") == {"ingest"}
    # A direct producer's topic: only the aggregator (for <topic>.dlq) until add-producer.sh
    # grants the producer its own, literally named topic.
    assert _writers("charging-plans.direct.fleet-a") == {"aggregator"}
    assert all(p in {"ingest", "aggregator", "decisions", "market"} for p, *_ in _acls())


def test_add_producer_grants_a_literal_topic_only():
    script = (KAFKA_DIR / "add-producer.sh").read_text()
    grants = [line for line in script.splitlines() if "--resource-pattern-type" in line]
    assert grants and all("--resource-pattern-type literal" in line for line in grants)
    assert 'topic="charging-plans.direct.${name}"' in script
    assert '--operation Write --operation Describe --topic "$topic"' in script
    assert "^[A-Za-z0-9_-]{1,200}$" in script  # the names direct.py accepts


def test_kafka_topics_and_acls_cover_what_the_code_uses():
    from services.aggregator.topics import OWN_TOPICS, Names
    from services.common.dlq import dlq_topic
    from services.decisions.app import TOPIC_KINDS
    from services.decisions.settings import Settings as DecisionsSettings
    from services.market.settings import Settings as MarketSettings

    topics = {name: policy for name, policy in _rows("topics.txt")}
    dead_letters = {dlq_topic(t) for t in (*TOPIC_KINDS, "aggregate-bids")}  # decisions, market
    assert topics == {t.name: "compact" if t.compacted else "delete" for t in OWN_TOPICS} | {
        t: "delete" for t in dead_letters
    }
    names = Names()
    # Every service may see every topic it ensures at start-up (else it would try to create it).
    for topic in (t.name for t in OWN_TOPICS):
        assert _allowed("aggregator", "Describe", "topic", topic), topic
    for topic in (names.plans, names.market, names.commands, names.config, names.changelog):
        assert _allowed("aggregator", "Read", "topic", topic), topic
    assert _allowed("aggregator", "Read", "topic", "charging-plans.direct.fleet-a")
    assert _allowed("aggregator", "Create", "topic", "charging-plans.direct.fleet-a.dlq")
    assert _allowed("aggregator", "Read", "group", names.intake_group)
    assert _allowed("aggregator", "Read", "group", names.owner_group)
    for topic in TOPIC_KINDS:
        assert _allowed("decisions", "Read", "topic", topic), topic
    assert _allowed("decisions", "Read", "group", DecisionsSettings().decisions_consumer)
    assert _allowed("market", "Read", "topic", "aggregate-bids")
    for topic in TOPIC_KINDS:  # every consumer writes the dead letters of what it reads
        assert _allowed("decisions", "Write", "topic", dlq_topic(topic)), topic
    assert _allowed("market", "Write", "topic", dlq_topic("aggregate-bids"))
    for topic in (names.plans, names.market, names.commands, names.by_day):
        assert _allowed("aggregator", "Write", "topic", dlq_topic(topic)), topic
    assert _allowed("market", "Read", "group", MarketSettings().market_group)


def _compose_values(node: object) -> list[tuple[str, str]]:
    """Every (key, string value) anywhere in docker-compose.yml."""
    if isinstance(node, dict):
        out = []
        for key, value in node.items():
            if isinstance(value, str):
                out.append((str(key), value))
            out += _compose_values(value)
        return out
    if isinstance(node, list):
        return [pair for item in node for pair in _compose_values(item)]
    return []


def test_no_password_is_committed_in_compose():
    secret = re.compile(r"PASSWORD|SECRET|TOKEN", re.IGNORECASE)
    found = 0
    for key, value in _compose_values(COMPOSE):
        if secret.search(key):
            found += 1
            var = VAR.fullmatch(value)
            assert var and var.group(2) == ":?", f"{key} must come from .env without a default"
        for url in re.findall(r"\w+://[^\s\"']+", value):
            userinfo = url.split("://", 1)[1].split("@", 1)
            if len(userinfo) == 2 and ":" in userinfo[0]:
                password = userinfo[0].split(":", 1)[1] + "@" + userinfo[1]
                assert password.startswith("${POSTGRES_PASSWORD:?"), f"{key}: password in {url}"
    assert found >= 8


def test_env_example_documents_every_variable_compose_reads():
    used = {m.group(1) for m in VAR.finditer((ROOT / "docker-compose.yml").read_text())}
    lines = (ROOT / ".env.example").read_text().splitlines()
    documented = dict(
        line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")
    )
    assert used == set(documented)
    for name, value in documented.items():
        if "PASSWORD" in name:
            assert value == "", f"{name}: .env.example holds placeholders, not passwords"
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_grafana_requires_a_login():
    env = SERVICES["grafana"]["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert VAR.fullmatch(env["GF_SECURITY_ADMIN_PASSWORD"]).group(2) == ":?"
    assert not any(k.startswith("GF_AUTH_ANONYMOUS_ORG") for k in env)


def test_no_deploy_file_holds_a_literal_password():
    assignment = re.compile(r"(password|passwd|secret)\s*[=:]\s*\"?([^\s\";,\]]*)", re.IGNORECASE)
    placeholders = re.compile(r"^(\$\{?[A-Z_]+\}?|@[A-Z_]+@|\$\{![a-z]+\}|)$")
    for path in (ROOT / "deploy").rglob("*"):
        if path.is_file() and path.suffix in {
            ".sh",
            ".properties",
            ".yml",
            ".yaml",
            ".sql",
            ".txt",
        }:
            for match in assignment.finditer(path.read_text()):
                assert placeholders.match(match.group(2)), f"{path}: {match.group(0)}"
