from tests.test_monitoring import *  # noqa
def test_dbg(home, files, tmp_path):
    store = Store(home)
    from console.monitoring.labels import known_classes
    with store.session() as s:
        print("CLASSES", known_classes(s, get_model(store, MODEL)))
    from console.evidence import latest_validation
    r = latest_validation(store, MODEL, 1)
    print([c.name for c in r.checks][:12])
