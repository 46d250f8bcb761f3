"""The composition root: configuration, logging, topics and the `threadlog` command.

Only this package wires `services`, `projections` and `events` together; nothing connects at
import time.
"""
