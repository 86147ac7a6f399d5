"""The stages of delivery, each a small unit the dispatcher (monitor/pipeline/dispatch.py)
composes: claim (the store) → group → schedule → render (monitor.notify) → send → classify →
record (the store). Between them pass frozen values: batches, a plan, typed messages, verdicts."""
