"""What the bot's own metrics cost: per interaction (recording its outcome and latencies) and per scrape of /metrics.

    python bench/metrics.py [--interactions 20000] [--commands 12]

No Discord, no model: :class:`bot.metrics.BotMetrics` fed with made-up interactions over ``--commands`` command
names (every outcome and refusal kind), then the Prometheus page rendered as ``GET /metrics`` renders it.
Targets (≤ 1 % of what they ride on): ≤ 1 ms of bookkeeping per interaction (answers take about a second) and
≤ 150 ms per scrape (1 % of a 15 s scrape interval of the event loop).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from types import SimpleNamespace

from prometheus_client import generate_latest

from bot.metrics import BotMetrics, percentiles

KINDS = ("cooldown", "bad_image", "unknown_title", "adult", "download", "permission")


def fake_interaction(command: str, received_at: float) -> SimpleNamespace:
    return SimpleNamespace(
        command=SimpleNamespace(qualified_name=command), data={}, extras={"received_at": received_at}
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--interactions", type=int, default=20_000)
    p.add_argument("--commands", type=int, default=12)
    args = p.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    metrics = BotMetrics()
    rng = random.Random(0)
    commands = [f"command-{n}" for n in range(args.commands)]
    errors = {kind: RuntimeError(kind) for kind in KINDS}
    started = time.perf_counter()
    for _ in range(args.interactions):
        interaction = fake_interaction(rng.choice(commands), time.monotonic() - rng.random())
        interaction.extras["metrics"] = metrics
        metrics.observe_ack(interaction, rng.random() * 0.5)
        if rng.random() < 0.8:
            metrics.finished(interaction)
        else:
            metrics.finished(interaction, errors[rng.choice(KINDS)])
        metrics.batch(rng.randint(1, 32), rng.random() * 0.1)
        metrics.executor("cpu", rng.random() * 0.01)
    per_interaction_us = (time.perf_counter() - started) / args.interactions * 1e6
    scrapes = []
    for _ in range(20):
        t = time.perf_counter()
        page = generate_latest(metrics.registry)
        scrapes.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    values = metrics.window.latencies()
    on_loop_ms = (time.perf_counter() - t) * 1000
    count, p50, p99 = percentiles(values)
    print(f"{args.interactions} interactions over {args.commands} commands; /metrics page: {len(page)} bytes")
    verdict = "PASS" if per_interaction_us <= 1000 else "MISS"
    print(f"| bookkeeping per interaction | {per_interaction_us:.1f} µs | target ≤ 1 ms | {verdict} |")
    scrape = statistics.median(scrapes)
    print(
        f"| one scrape (median of 20)   | {scrape:.2f} ms | target ≤ 150 ms | {'PASS' if scrape <= 150 else 'MISS'} |"
    )
    print(f"| /about's 24 h window ({count} answers) | {on_loop_ms:.2f} ms on the event loop (sorted in a thread) |")


if __name__ == "__main__":
    main()
