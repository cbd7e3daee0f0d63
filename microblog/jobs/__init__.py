"""Durable jobs: the side effects that must not be lost (mail, search indexing, notifications).

A job is a row written in the same transaction as the change that causes it (`enqueue`): a
change that rolls back leaves no job behind, a committed one always has its job. A runner in
each Hypercorn worker (or `quart jobs run`, on as many hosts as share the database) claims due
jobs atomically, runs the handler registered for the job's kind, and marks it done. A claimed
job carries a lease: if its runner dies, the job is claimed again once the lease runs out, so
handlers should be idempotent where they can be; the attempt number fences a runner whose lease
ran out (it can no longer record anything for that job).

Each kind declares its policy beside its handler (`@handler(kind, attempts=…, max_delay=…,
concurrency=…)`; JOBS_POLICIES overrides it in tests):
- a failure is retried after JOBS_RETRY_SECONDS, doubling up to the kind's `max_delay` (an hour
  unless declared), until its `attempts` (JOBS_MAX_ATTEMPTS unless declared); then it is failed
  and logged. A handler raises `Final` for a failure no retry can mend (failed at once), and
  `RetryAfter(seconds)` to be tried no sooner than asked;
- a runner runs up to JOBS_CONCURRENCY jobs at once, each as a task, and no more of one kind
  than its `concurrency`: a kind stalled at its limit (mail to a server that never answers)
  leaves the others room;
- `enqueue(…, key=…)` queues nothing when a job of that kind with that key is queued or running,
  even one a concurrent transaction is writing (a unique key, INSERT … ON CONFLICT DO NOTHING);
- finished jobs are deleted by the runners: done ones JOBS_KEEP_DAYS after they finished, failed
  ones JOBS_KEEP_FAILED_DAYS after, in bounded batches every hour.

  model.py    the job row, kinds and their policies, `enqueue`, `Final`, `RetryAfter`
  runner.py   claiming, running, retrying, the runner's loop, retention
  cli.py      the runner started with each web worker; `quart jobs run | status | retry`
"""
from .cli import counts, init_app, requeue_failed
from .model import (DONE, FAILED, HANDLERS, POLICIES, QUEUED, RUNNING, Final, Handler, Job, Policy, RetryAfter,
                    enqueue, handler, policy, retry_delay)
from .runner import JobRunner, claim, purge, run, run_one

__all__ = ["DONE", "FAILED", "HANDLERS", "POLICIES", "QUEUED", "RUNNING", "Final", "Handler", "Job", "JobRunner",
           "Policy", "RetryAfter", "claim", "counts", "enqueue", "handler", "init_app", "policy", "purge",
           "requeue_failed", "retry_delay", "run", "run_one"]
