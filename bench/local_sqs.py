"""The local AWS server's SQS receive over a backlog: moto as shipped against moto with moto_sqs installed.

Under load the local stack's queue holds a backlog, and moto 5's receive re-counted the whole queue twice
for each message it handed out (runtime/moto_sqs.py says how). Each side runs in a fresh interpreter
(the patch is process-wide), fills a queue with BACKLOG messages, then times RECEIVES receives of 10
and SENDS single sends; figures are medians per call and the ratio of moto's to ours, in one run.
"""

from __future__ import annotations

import json
import subprocess
import sys

SECTION = "local SQS over a backlog"
BACKLOG = 1_000
RECEIVES = 10
SENDS = 20

MEASURE = """
import json, statistics, sys, time
import boto3
from moto import mock_aws
if sys.argv[1] == "local":
    from catalog_sync_local.runtime import moto_sqs
    moto_sqs.install()
backlog, receives, sends = (int(n) for n in sys.argv[2:5])
with mock_aws():
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="backlog")["QueueUrl"]
    for start in range(0, backlog, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "m"} for n in range(10)])
    def timed(call):
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000
    def receive_10():
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    receive = [timed(receive_10) for _ in range(receives)]
    send = [timed(lambda: sqs.send_message(QueueUrl=url, MessageBody="m")) for _ in range(sends)]
print(json.dumps({"receive_ms": statistics.median(receive), "send_ms": statistics.median(send)}))
"""


def _measure(side: str) -> dict[str, float]:
    done = subprocess.run(  # noqa: S603 - this interpreter, the script above
        [sys.executable, "-c", MEASURE, side, str(BACKLOG), str(RECEIVES), str(SENDS)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    figures: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return figures


def run() -> dict[str, float]:
    moto, local = _measure("moto"), _measure("local")
    return {
        "sqs_backlog_receive_ms_moto": round(moto["receive_ms"], 1),
        "sqs_backlog_receive_ms_local": round(local["receive_ms"], 1),
        "sqs_backlog_receive_speedup": round(moto["receive_ms"] / local["receive_ms"], 1),
        "sqs_backlog_send_speedup": round(moto["send_ms"] / local["send_ms"], 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
