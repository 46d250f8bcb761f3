"""Readers of other comment systems' exports, and the plan that turns what they read into events.

Pure apart from reading the export file: nothing here talks to Kafka or PostgreSQL. The shell that
appends the planned events to the log is `threadlog import` (threadlog/import_cmd.py).
"""
