"""`make chaos`: random merchant edits under hostile delivery and crashing workers, then check the promises.

Every seed gets a stack of its own, run as in AWS: each function in worker processes like Lambda
containers (`ProcessRuntime`), up to five consumers syncing batches at once (the template's
MaximumConcurrency), all against one moto server process. The merchant and the faults are
`chaos_merchant`'s. Configuration for the run, through the same code paths as in AWS, so that what
takes minutes there takes seconds here (`Timings`): SyncQueue's visibility timeout (a killed batch
reappears after it, not 6 minutes), the per-entity lease (a killed worker's entities are free after it,
not 120 s) and the retry backoff base (the first four retries back off for at least 7.5x that, longer
than a dead worker's lease, before a fifth receive; AWS's defaults, 30 s against a 120 s lease, keep
about the same ratio).

After the faults stop: one pull and one full sync (the safety nets), then the checks:
- converged: store B equals store A on every synced field (and Medusa Pixlpay's prices);
- stale_overwrites: writes at B of an older version of a product than one already written (write log);
- lost_events: stored events that ended neither processed (or ignored) nor in the DLQ;
- dlq: messages in the DLQ (what nothing can fix; expected none).
Reported too: how every stored event ended (`event_outcomes`; `covered`: acknowledged unsynced because a
complete sync of its entity, leased after it was queued, had done its work).
Usage: python -m bench.chaos [seeds] [changes per seed] [--jobs N] [--progress FILE]. Writes
bench/chaos.json. A seed's stack mostly waits (visibility timeouts, lease expiries, backoffs, the
merchant's pacing), so two seeds at once on two cores take about the time of one.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from bench.chaos_merchant import CONNECTION, CONSUMER, COUNTED, Merchant
from bench.chaos_observe import WriteLog, dead_letters, explain_sku, log_counters, quiet_queues
from catalog_sync_local.demo.compare import catalog_differences
from catalog_sync_local.runtime.process_runtime import ProcessRuntime
from catalog_sync_local.runtime.sandbox import Sandbox

OUT = Path(__file__).resolve().parent / "chaos.json"
PIXLPAY = "pixlpay-to-medusa"
SETTLE_S = 600.0  # bound on every wait for the queues to empty


@dataclass(frozen=True)
class Timings:
    """The run's shortened AWS timings (see the module docstring): visibility, lease, retry backoff base."""

    visibility_s: int = 20
    lease_s: int = 10
    retry_base_s: int = 3
    stuck_after_s: int = 60  # the sweeper re-queues a stored event not consumed after this (AWS: 900 s)

    def env(self) -> dict[str, dict[str, str]]:
        # Consumers log their warnings (a failed sync names its error code: lease_held, ...); the rest
        # is quiet.
        return {
            "Parameters": {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"},
            CONSUMER: {"POWERTOOLS_LOG_LEVEL": "WARNING", "SYNC_LEASE_SECONDS": str(self.lease_s)},
        }


DEFAULT = Timings()
# Summed over the seeds: what the merchants counted, and what each seed's checks found.
SUMMED = (
    *COUNTED,
    "deliveries",
    "writes",
    "retries",
    "lease_conflicts",
    "covered",
    "stale_overwrites",
    "lost_events",
    "dlq",
)


def run_seed(
    seed: int, changes: int, log_dir: Path, *, pixlpay_rounds: int = 3, timings: Timings = DEFAULT
) -> dict[str, Any]:
    """One seed on a stack of its own: `changes` merchant changes under the faults, then the checks."""
    rng = random.Random(seed)
    log_path = log_dir / f"seed-{seed}.log"
    started = time.monotonic()
    with Sandbox(
        register_webhooks=True,
        env_overrides=timings.env(),
        serve_aws=True,
        processes=True,
        aws_faults=True,
        log_path=log_path,
        store_quota=1_000_000,  # B's 429s are injected (destination_outage), not earned
        parameter_overrides={
            "RetryBackoffBaseSeconds": str(timings.retry_base_s),
            "StuckAfterSeconds": str(timings.stuck_after_s),
        },
    ) as box:
        boto3.client("sqs").set_queue_attributes(
            QueueUrl=box.stack.queues["SyncQueue"].url,
            Attributes={"VisibilityTimeout": str(timings.visibility_s)},
        )
        box.update_connection(CONNECTION, schedule={"page_size": 3})  # runs of ties span pages
        merchant = Merchant(box, rng)
        merchant.a.delivery_timeout_s = 3.0  # a hung receiver is retried sooner (BigCommerce: ~10 s)
        writes = WriteLog()
        writes.attach(merchant.b)
        kill_at = sorted(rng.sample(range(changes // 10, changes), k=max(1, changes // 400)))
        send_fail_at = set(rng.sample(range(changes), k=max(1, changes // 500)))
        with box.runtime.pollers(idle_s=0.2):
            try:
                loop_started = time.monotonic()
                for _ in range(4):
                    merchant.create()
                for step in range(changes):
                    _step(merchant, rng, step, kill_at, send_fail_at)
                merchant.set_hooks_active(True)
                merchant.late_deletes()
                faults_stopped = time.monotonic()
                loop_s = faults_stopped - loop_started
                settled = quiet_queues(box, max_seconds=SETTLE_S)
                merchant.pull()
                box.runtime.fire_schedule("FullSyncFunction")  # the safety net finds what webhooks missed
                settled = quiet_queues(box, max_seconds=SETTLE_S) and settled
                swept = sweep_stuck_events(box, timings)
                settled = quiet_queues(box, max_seconds=SETTLE_S) and settled
                converge_s = time.monotonic() - faults_stopped
                problems = catalog_differences(
                    merchant.a, merchant.b, deleted_skus=frozenset(merchant.deleted)
                )
                if pixlpay_rounds:
                    problems += pixlpay_same_second_edits(box, rng, rounds=pixlpay_rounds)
                if not settled:
                    problems.append(f"queues not empty after {SETTLE_S:.0f} s")
                explained = [
                    explain_sku(
                        box, CONNECTION, sku, [pid for pid, s in merchant.sku.items() if s == sku], writes
                    )
                    # A SKU that did not converge, or that B saw written older than before ("CH-61: v5
                    # written after v9").
                    for sku in sorted(
                        {
                            p.split(":")[0].split(".")[0]
                            for p in [*problems, *writes.stale]
                            if p.startswith("CH-")
                        }
                    )[:5]
                ]
            finally:
                merchant.close()
        dlq = box.queue_depth("SyncDeadLetterQueue")
        parked = dead_letters(box)
        events = box.events()
        unfinished = [e for e in events if e["status"] not in ("processed", "ignored")]
        # How each stored event ended: "covered" = acknowledged because a later complete sync did it.
        outcomes = Counter(str(e.get("outcome") or e["status"]) for e in events)
        consumer = box.runtime.pool(CONSUMER).stats if isinstance(box.runtime, ProcessRuntime) else None
        deliveries = sum(d.attempts for d in merchant.a.deliveries) + merchant.counts["replayed"]
        b_writes = sum(1 for r in merchant.b.request_log if r.method != "GET" and r.status < 300)
    logged = log_counters(log_path)
    return {
        "seed": seed,
        "converged": not problems,
        "problems": problems[:10],
        "explained": explained,
        **merchant.counts,
        "deliveries": deliveries,
        "writes": b_writes,
        "product_writes_logged": len(writes.writes),
        "retries": sum(n for key, n in logged.items() if key.startswith("sync failed/")),
        "lease_conflicts": logged["sync failed/lease_held"],
        "failed_by_error": _by_error(logged),
        "event_outcomes": dict(sorted(outcomes.items())),
        "covered": outcomes["covered"],
        "stale_overwrites": len(writes.stale),
        "stale_examples": writes.stale[:5],
        "lost_events": max(0, len(unfinished) - dlq),
        "unfinished_events": [_event_summary(e) for e in unfinished[:10]],
        "swept": swept,
        "dlq": dlq,
        "dlq_messages": parked[:20],
        "peak_consumers": consumer.peak_concurrency if consumer else 1,
        "consumer_containers_lost": consumer.lost if consumer else 0,
        "changes_s": round(loop_s, 1),
        "converge_s": round(converge_s, 1),
        "seed_s": round(time.monotonic() - started, 1),
    }


def _step(
    merchant: Merchant, rng: random.Random, step: int, kill_at: list[int], send_fail_at: set[int]
) -> None:
    merchant.change()
    roll = rng.random()
    if roll < 0.12:
        merchant.replay_old_notifications(rng.randint(1, 4))
    elif roll < 0.16:
        merchant.destination_outage()
    elif roll < 0.18:
        merchant.set_hooks_active(False)  # notifications for the next changes are lost
    elif roll < 0.25:
        merchant.set_hooks_active(True)
    elif roll < 0.28:
        merchant.source_hiccup()
    elif roll < 0.32:
        merchant.recreate()
    elif roll < 0.325:
        merchant.burst_in_one_second()
    elif roll < 0.35:
        merchant.destination_delete()
    elif roll < 0.37:
        merchant.hot_entities()
    if rng.random() < 0.1:
        merchant.late_deletes()
    if kill_at and step >= kill_at[0]:
        merchant.hot_entities()  # consumers busy with contended batches: kill one of them
        if merchant.kill_consumer():
            kill_at.pop(0)
    if step in send_fail_at:
        merchant.send_fails_after_put()
    if step % 50 == 49:  # the merchant does not outrun the webhooks by more than a few hundred
        merchant.a.wait_for_deliveries(timeout=60)


def sweep_stuck_events(box: Sandbox, timings: Timings) -> dict[str, int]:
    """The event cleanup's run, as its schedule would: events stored but never queued (the receiver's
    send failed after its put and the sender did not retry, as a one-off redelivery does not) are
    queued again once `stuck_after_s` old. Waits until the youngest stored event is that old."""
    youngest_ms = max((int(e.get("received_at") or 0) for e in box.events()), default=0)
    time.sleep(max(0.0, youngest_ms / 1000 + timings.stuck_after_s + 1 - time.time()))
    report = box.runtime.fire_schedule("EventCleanupFunction")
    return {key: int(report.get(key, 0)) for key in ("requeued", "failed", "failed_exhausted")}


def _event_summary(event: dict[str, Any]) -> dict[str, Any]:
    """What a stored event that never finished looked like (for the report; no payload)."""
    keys = ("pk", "sk", "status", "attempts", "entity_type", "entity_id", "last_error", "received_at")
    return {key: event.get(key) for key in keys if event.get(key) is not None}


def _by_error(logged: Counter[str]) -> dict[str, int]:
    return {key.split("/", 1)[1]: n for key, n in sorted(logged.items()) if key.startswith("sync failed/")}


def _stopped_at(second: float) -> Callable[[], float]:
    return lambda: second


def pixlpay_same_second_edits(box: Sandbox, rng: random.Random, rounds: int) -> list[str]:
    """Pixlpay -> Medusa with the documented id-less `event` + `timestamp` payloads: each round edits a
    product's price twice within one second (the second delivery's bytes equal the first's), letting the
    first sync land in between. Medusa must end with the last price, with no pull or full sync's help."""
    pixlpay, medusa = box.pixlpay_store(PIXLPAY), box.medusa_store(PIXLPAY)
    pixlpay.payload_shape = "event"
    products = [pixlpay.create_product(f"Crate {n}", "1.00") for n in range(2)]
    quiet_queues(box, max_seconds=SETTLE_S)
    for _ in range(rounds):
        product = rng.choice(products)
        frozen = float(int(time.time()))
        pixlpay.clock = _stopped_at(frozen)
        try:
            for _ in range(2):
                pixlpay.update_product(product["id"], price=f"{rng.uniform(1, 99):.2f}")
                quiet_queues(box, max_seconds=SETTLE_S, calm_checks=1)
        finally:
            pixlpay.clock = time.time
        time.sleep(max(0.0, frozen + 1.05 - time.time()))
    problems = []
    for product in products:
        want = float((pixlpay.get_product(product["id"]) or {})["price"])
        got = medusa.product_by_external_id(f"pixlpay_{product['id']}") or {}
        prices = [p["amount"] for v in got.get("variants") or [] for p in v.get("prices") or []]
        if prices != [want]:
            problems.append(f"pixlpay_{product['id']}: price {prices} in Medusa, {want} in Pixlpay")
    return problems


def summarize(
    results: list[dict[str, Any]], seeds: int, changes: int, elapsed_s: float, *, jobs: int = 1
) -> dict[str, Any]:
    return {
        "seeds": seeds,
        "changes_per_seed": changes,
        "converged_seeds": sum(r["converged"] for r in results),
        **{key: sum(r[key] for r in results) for key in SUMMED},
        "swept": sum(r["swept"]["requeued"] for r in results),
        "min_peak_consumers": min(r["peak_consumers"] for r in results),
        "max_converge_s": max(r["converge_s"] for r in results),
        "elapsed_s": round(elapsed_s, 1),  # this invocation's (a resumed run's earlier part not in it)
        "seed_s_sum": round(sum(r["seed_s"] for r in results), 1),
        "jobs": jobs,
        "visibility_timeout_s": DEFAULT.visibility_s,
        "lease_s": DEFAULT.lease_s,
        "retry_backoff_base_s": DEFAULT.retry_base_s,
        "stuck_after_s": DEFAULT.stuck_after_s,
    }


def run_seeds(
    seeds: list[int],
    changes: int,
    logs: Path,
    *,
    jobs: int = 1,
    progress: Path | None = None,
    pixlpay_rounds: int = 3,
    timings: Timings = DEFAULT,
    run: Callable[..., dict[str, Any]] = run_seed,
) -> list[dict[str, Any]]:
    """The seeds, `jobs` at a time (each in a process of its own: its own moto, stores and containers).

    Each finished seed is printed and, with `progress`, appended to that JSON-lines file; seeds already in
    it are not run again, so a long run that was stopped resumes where it was."""
    options: dict[str, Any] = {"pixlpay_rounds": pixlpay_rounds, "timings": timings}
    done = {r["seed"]: r for r in _read_progress(progress) if r.get("changes_per_seed", changes) == changes}
    todo = [seed for seed in seeds if seed not in done]

    def finished(result: dict[str, Any]) -> None:
        done[result["seed"]] = result
        if progress is not None:
            with progress.open("a") as out:
                out.write(json.dumps({**result, "changes_per_seed": changes}) + "\n")
        print(_seed_line(result), flush=True)

    if jobs > 1 and len(todo) > 1:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter per seed's stack
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [pool.submit(run, seed, changes, logs, **options) for seed in todo]
            for future in as_completed(futures):
                finished(future.result())
    else:
        for seed in todo:
            finished(run(seed, changes, logs, **options))
    return [done[seed] for seed in seeds]


def _read_progress(progress: Path | None) -> list[dict[str, Any]]:
    if progress is None or not progress.exists():
        return []
    return [json.loads(line) for line in progress.read_text().splitlines() if line.strip()]


def _seed_line(result: dict[str, Any]) -> str:
    return (
        f"seed {result['seed']}: converged={result['converged']} stale={result['stale_overwrites']} "
        f"lost={result['lost_events']} dlq={result['dlq']} kills={result['kills']} "
        f"peak={result['peak_consumers']} lease_conflicts={result['lease_conflicts']} "
        f"covered={result.get('covered', 0)} "
        f"converge={result['converge_s']}s seed={result['seed_s']}s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("seeds", nargs="?", type=int, default=20, help="how many seeds (0, 1, ...)")
    parser.add_argument("changes", nargs="?", type=int, default=1000, help="merchant changes per seed")
    parser.add_argument("--jobs", type=int, default=1, help="seeds run at once, each in its own process")
    parser.add_argument(
        "--progress",
        type=Path,
        help="JSON-lines file of finished seeds: appended to, resumed from, removed once all are done",
    )
    parser.add_argument("--out", type=Path, default=OUT, help="where the summary goes (bench/chaos.json)")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.changes < 10 or args.jobs < 1:
        parser.error("seeds and --jobs must be at least 1, changes at least 10")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chaos-logs-") as temporary:
        logs = Path(os.environ.get("CHAOS_LOGS") or temporary)  # CHAOS_LOGS=dir keeps the containers' logs
        logs.mkdir(parents=True, exist_ok=True)
        results = run_seeds(
            list(range(args.seeds)), args.changes, logs, jobs=args.jobs, progress=args.progress
        )
    summary = summarize(results, args.seeds, args.changes, time.monotonic() - started, jobs=args.jobs)
    args.out.write_text(json.dumps({**summary, "runs": results}, indent=2) + "\n")
    if args.progress is not None:
        args.progress.unlink(missing_ok=True)  # done: the next run starts over (a stopped one resumes)
    for key, value in summary.items():
        print(f"{key:<22} {value}")
    for r in results:
        if r["problems"]:
            print(f"seed {r['seed']}: " + "; ".join(r["problems"][:3]))
    ok = (
        summary["converged_seeds"] == args.seeds
        and not summary["stale_overwrites"]
        and not summary["lost_events"]
        and not summary["dlq"]  # nothing the run does is unrecoverable: a dead letter is a bug
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
