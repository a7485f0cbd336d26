#!/usr/bin/env python3
"""Checks that the Redis Cluster of a rendered overlay hangs together.

    check-redis-cluster.py <rendered.yaml>

The values k8s/components/redis-cluster repeats across objects, which no
schema or kube-score relates (k8s/components/redis-cluster, ADR 0025):

- the StatefulSet `redis-cluster` has an even number of nodes, at least 6
  (3 masters + their replicas, `--cluster-replicas 1`);
- presence's REDIS_CLUSTER_NODES names exactly its pods, by their headless
  Service DNS names, on the client port; the create Job forms that many
  nodes of that Service;
- the client port and the cluster bus (client port + 10000) are declared by
  the container, published by the headless Service (not-ready addresses
  too) and let through by a NetworkPolicy between the nodes, both ways;
- presence's and the create Job's NetworkPolicies reach the client port;
- a PodDisruptionBudget with maxUnavailable 1 and a hard spread over nodes.

Needs PyYAML (validate.sh puts its cached copy on PYTHONPATH). Exits 1 with
one line per problem; prints a one-line summary otherwise.
"""

import sys

import yaml

NAME = "redis-cluster"
LABEL = "app.kubernetes.io/name"


def find(docs, kind, name):
    for doc in docs:
        if doc.get("kind") == kind and doc["metadata"]["name"] == name:
            return doc
    return None


def env_value(container, name):
    for entry in container.get("env", []):
        if entry["name"] == name:
            return entry.get("value")
    return None


def policy_ports(rules, peer_key, peer_label):
    """Ports the rules allow to or from pods labelled LABEL=peer_label."""
    ports = set()
    for rule in rules or []:
        peers = rule.get(peer_key, [])
        if any(p.get("podSelector", {}).get("matchLabels", {}).get(LABEL) == peer_label for p in peers):
            ports |= {p["port"] for p in rule.get("ports", [])}
    return ports


def main(path):
    with open(path, encoding="utf-8") as source:
        docs = [d for d in yaml.safe_load_all(source) if d]
    problems = []
    sts = find(docs, "StatefulSet", NAME)
    if sts is None:
        print(f"no StatefulSet {NAME} in {path}")
        return 1
    spec = sts["spec"]
    pod = spec["template"]["spec"]
    replicas = spec.get("replicas", 1)
    service_name = spec["serviceName"]
    if replicas < 6 or replicas % 2:
        problems.append(f"StatefulSet {NAME} has {replicas} nodes: needs an even number >= 6 (masters + one replica each)")

    container = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    client, bus = ports.get("redis"), ports.get("cluster-bus")
    if client is None or bus != client + 10000:
        problems.append(f"container ports: redis {client}, cluster-bus {bus}: the bus must be the client port + 10000")

    service = find(docs, "Service", service_name)
    if service is None:
        problems.append(f"no Service {service_name} (the StatefulSet's serviceName)")
    else:
        published = {p["port"] for p in service["spec"].get("ports", [])}
        if service["spec"].get("clusterIP") != "None" or not service["spec"].get("publishNotReadyAddresses"):
            problems.append(f"Service {service_name} must be headless and publish not-ready addresses")
        if not {client, bus} <= published:
            problems.append(f"Service {service_name} publishes {sorted(published)}, not {client} and {bus}")

    config = find(docs, "ConfigMap", "presence-config") or next(
        (d for d in docs if d.get("kind") == "ConfigMap" and d["metadata"]["name"].startswith("presence-config-")), None
    )
    nodes = (config or {}).get("data", {}).get("REDIS_CLUSTER_NODES", "")
    expected = [f"{NAME}-{i}.{service_name}:{client}" for i in range(replicas)]
    if nodes.split(",") != expected:
        problems.append(f"presence REDIS_CLUSTER_NODES is '{nodes}', expected '{','.join(expected)}'")

    job = find(docs, "Job", f"{NAME}-create")
    if job is None:
        problems.append(f"no Job {NAME}-create")
    else:
        job_container = job["spec"]["template"]["spec"]["containers"][0]
        size, svc = env_value(job_container, "REDIS_CLUSTER_SIZE"), env_value(job_container, "REDIS_CLUSTER_SERVICE")
        if size != str(replicas) or svc != service_name:
            problems.append(f"Job {NAME}-create forms {size} nodes of {svc}, the StatefulSet has {replicas} of {service_name}")

    policies = [d for d in docs if d.get("kind") == "NetworkPolicy"]
    own = [p for p in policies if p["spec"]["podSelector"].get("matchLabels", {}).get(LABEL) == NAME]
    ingress = set().union(*(policy_ports(p["spec"].get("ingress"), "from", NAME) for p in own)) if own else set()
    egress = set().union(*(policy_ports(p["spec"].get("egress"), "to", NAME) for p in own)) if own else set()
    if not {client, bus} <= ingress or not {client, bus} <= egress:
        problems.append(f"NetworkPolicy between the nodes allows in {sorted(ingress)}, out {sorted(egress)}: needs {client} and {bus} both ways")
    for peer in ("presence", f"{NAME}-create"):
        mine = [p for p in policies if p["spec"]["podSelector"].get("matchLabels", {}).get(LABEL) == peer]
        out = set().union(*(policy_ports(p["spec"].get("egress"), "to", NAME) for p in mine)) if mine else set()
        into = set().union(*(policy_ports(p["spec"].get("ingress"), "from", peer) for p in own)) if own else set()
        if client not in out or client not in into:
            problems.append(f"{peer} cannot reach the nodes' port {client} (its egress {sorted(out)}, the nodes' ingress from it {sorted(into)})")

    pdbs = [d for d in docs if d.get("kind") == "PodDisruptionBudget"
            and d["spec"]["selector"].get("matchLabels", {}).get(LABEL) == NAME]
    if not pdbs or pdbs[0]["spec"].get("maxUnavailable") != 1:
        problems.append(f"no PodDisruptionBudget with maxUnavailable 1 for {NAME}")
    if not any(c["topologyKey"] == "kubernetes.io/hostname" and c["whenUnsatisfiable"] == "DoNotSchedule"
               for c in pod.get("topologySpreadConstraints", [])):
        problems.append(f"StatefulSet {NAME} has no hard (DoNotSchedule) spread over kubernetes.io/hostname")

    if problems:
        for problem in problems:
            print(f"FAIL redis cluster: {problem}")
        return 1
    print(f"{replicas} nodes ({replicas // 2} masters + replicas), REDIS_CLUSTER_NODES, create Job, ports {client}/{bus} in Service and NetworkPolicies, PDB, hard node spread agree")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1]))
