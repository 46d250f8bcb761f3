"""Reading and marking the event log: the Kafka subscriber library (`subscribe`), positions in
the log and the NOTIFY channel that announces applied ones (`position`), and the headers of a
parked record (`dead_letters`). Built on the `events` contract, which itself does no I/O.
"""
