"""How results.csv of this example submission was made: scikit-learn's GaussianMixture (diagonal
covariances, EM, k-means initialisation, scikit-learn defaults otherwise) with k = the number of
classes on the suite's six embedded datasets (profile quick), seeds 0-9, scored with the suite's
metrics. Labels are used only for scoring.

    OMP_NUM_THREADS=1 python submissions/gmm_diag/make_results.py
"""

import csv
import resource
import time
from pathlib import Path

from sklearn.mixture import GaussianMixture

from clusterbench.data import load_dataset
from clusterbench.framework.metrics import evaluate
from clusterbench.framework.registry import load_profile

KEYS = ("acc", "nmi", "nmi_geometric", "nmi_max", "ari")


def main() -> None:
    profile = load_profile("quick")
    rows = []
    for name in profile["datasets"]:
        data = load_dataset(name)
        X = data.X.reshape(len(data.X), -1)
        for seed in profile["seeds"]:
            start = time.perf_counter()
            labels = GaussianMixture(n_components=data.n_classes, covariance_type="diag", random_state=seed,
                                     reg_covar=1e-4).fit_predict(X)
            wall = time.perf_counter() - start
            metrics = evaluate(data.y, labels)
            rows.append({"dataset": name, "seed": seed, **{k: f"{metrics[k]:.6f}" for k in KEYS},
                         "wall_s": f"{wall:.3f}",
                         "peak_rss_mb": f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"})
            print(name, seed, rows[-1]["acc"], flush=True)
    out = Path(__file__).with_name("results.csv")
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
