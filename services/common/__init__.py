"""The runtime library: what the services import at run time (settings, clock, Kafka clients
and access, registry access and migrations, token auth, metrics, problem details, dead
letters, limits). It imports only schemas/; the development toolbox is services/devstack/."""
