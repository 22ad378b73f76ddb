"""The results table printed at the end of a run stays a table whatever the magnitudes."""
from reporting.report import results_table


def metrics(**values):
    base = {"eer": 0.1, "min_dcf": 0.5, "act_dcf": 0.25, "cllr": 0.75, "accuracy": 0.9, "eer_per_attack": {"A01": 0.1, "pooled": 0.1}}
    return {**base, **values}


def test_columns_stay_apart_for_any_magnitude():
    table = results_table({"dev": metrics(), "eval": metrics(act_dcf=60177.2, cllr=6.4e13, min_dcf=123456.0)})
    header, dev, evaluation = table.splitlines()[:3]
    assert len(dev.split()) == len(evaluation.split()) == 6 and len(header) == len(dev) == len(evaluation)
    assert dev.split()[1:] == ["10.00", "0.5000", "0.2500", "0.7500", "0.9000"]
    assert evaluation.split()[2:5] == ["1.23e+05", "6.02e+04", "6.4e+13"]
    assert table.splitlines()[3] == "eval EER % per attack: A01 10.00, pooled 10.00"
