"""The ingest process keeps its collector off what it made to start, and collects the young
less often: measured, a fifth less CPU per event in batches of 100."""

import gc

from threadlog.cli import ingest_app


def test_the_ingest_factory_freezes_startup_objects_and_raises_the_young_threshold() -> None:
    """After uvicorn's factory built the app, the objects made so far are frozen (never
    scanned again) and the youngest generation is collected every 7,000 allocations, not 700."""
    threshold = gc.get_threshold()
    try:
        gc.unfreeze()
        ingest_app()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == 7_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
