"""The hypothesis profile every sandbox run gives the tests (the harness's, and plain pytest's in
the strict path): the same examples every run, no deadline a loaded machine could miss, no
database to leave behind."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "sandbox",
    database=None,
    deadline=None,
    derandomize=True,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile("sandbox")
