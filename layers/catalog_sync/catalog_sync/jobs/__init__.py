"""Scheduled jobs: hourly pull (cursor and audit modes), the resumable full sync, event cleanup and
replay. They only enqueue work: the consumer's `sync one entity` does every write, so these jobs
cannot double-apply anything, and an extra request costs a fetch, never a wrong write."""

from catalog_sync.jobs.audit import (
    AUDIT_CHECKPOINT,
    AUDIT_NAMESPACE,
    FetchPage,
    SweepState,
    audit_pull,
    sweep,
)
from catalog_sync.jobs.cleanup import CleanupReport, EventSweeper, cleanup_events
from catalog_sync.jobs.common import Checkpoints, IdSet, Sender, Snapshots, listing_hash, time_left_from
from catalog_sync.jobs.full_sync import (
    FULL_SYNC_JOB,
    FULL_SYNC_NAMESPACE,
    Continuation,
    FullSyncReport,
    ProgressRecords,
    Sweep,
    full_sync,
)
from catalog_sync.jobs.pull import PULL_CHECKPOINT, CursorSource, JobReport, pull_changes
from catalog_sync.jobs.replay import replay, replay_requests

__all__ = [
    "AUDIT_CHECKPOINT",
    "AUDIT_NAMESPACE",
    "FULL_SYNC_JOB",
    "FULL_SYNC_NAMESPACE",
    "PULL_CHECKPOINT",
    "Checkpoints",
    "CleanupReport",
    "Continuation",
    "CursorSource",
    "EventSweeper",
    "FetchPage",
    "FullSyncReport",
    "IdSet",
    "JobReport",
    "ProgressRecords",
    "Sender",
    "Snapshots",
    "Sweep",
    "SweepState",
    "audit_pull",
    "cleanup_events",
    "full_sync",
    "listing_hash",
    "pull_changes",
    "replay",
    "replay_requests",
    "sweep",
    "time_left_from",
]
