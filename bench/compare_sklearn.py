#!/usr/bin/python3
"""descent's CLI against scikit-learn's MLPClassifier/MLPRegressor and torch on data none of us wrote:
scikit-learn's bundled digits (8x8, values 0..16), breast cancer (30 features, binary) and diabetes
(10 features, regression). Same split, hidden sizes, activation, optimizer (Adam), rate, batch and
epochs; three seeds each; the median test metric is printed side by side.

    /usr/bin/python3 bench/compare_sklearn.py [build/src/cli/descent]

Needs python3-sklearn and python3-torch (Debian); the tests never run it.
"""
import os
import re
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

DESCENT = sys.argv[1] if len(sys.argv) > 1 else "build/src/cli/descent"
SEEDS = (0, 1, 2)
torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=ConvergenceWarning)

# name, loader, hidden sizes, activation (descent / sklearn / torch), loss, lr, batch, epochs, input handling
CASES = [
    ("digits", datasets.load_digits, [32], ("relu", "relu", torch.nn.ReLU), "nll", 0.01, 32, 20, "scale 1/16"),
    ("digits-tanh", datasets.load_digits, [32], ("tanh", "tanh", torch.nn.Tanh), "cross-entropy", 0.01, 32, 20,
     "scale 1/16"),
    ("cancer", datasets.load_breast_cancer, [16], ("tanh", "tanh", torch.nn.Tanh), "bce", 0.01, 32, 20, "standardize"),
    ("diabetes", datasets.load_diabetes, [16], ("relu", "relu", torch.nn.ReLU), "mse", 0.05, 32, 100, "standardize"),
]


def write_csv(path, X, y):
    with open(path, "w") as f:
        f.write(",".join(["f%d" % i for i in range(X.shape[1])] + ["target"]) + "\n")
        for row, t in zip(X, y):
            f.write(",".join(repr(float(v)) for v in row) + "," + repr(t.item()) + "\n")


def descent_run(tmp, name, sizes, act, loss, lr, batch, epochs, inputs, seed):
    args = [DESCENT, "train", "--data", f"{tmp}/{name}-train.csv", "--test", f"{tmp}/{name}-test.csv", "--target",
            "target", "--layers", ",".join(map(str, sizes)), "--activation", act, "--loss", loss, "--optimizer", "adam",
            "--lr", str(lr), "--batch", str(batch), "--epochs", str(epochs), "--seed", str(seed)]
    args += ["--standardize"] if inputs == "standardize" else ["--input-scale", "0.0625"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    fields = dict(re.findall(r"(\w+)=(\S+)", out))
    return float(fields["test_accuracy"]) if loss != "mse" else float(fields["test_loss"])


def prepare(X_train, X_test, inputs):
    if inputs == "standardize":
        scaler = StandardScaler().fit(X_train)
        return scaler.transform(X_train), scaler.transform(X_test)
    return X_train / 16.0, X_test / 16.0


def sklearn_run(X, Xt, y, yt, hidden, act, loss, lr, batch, epochs, seed):
    common = dict(hidden_layer_sizes=tuple(hidden), activation=act, solver="adam", learning_rate_init=lr,
                  batch_size=batch, max_iter=epochs, alpha=0.0, tol=0.0, n_iter_no_change=10 ** 9, random_state=seed)
    if loss == "mse":
        m = MLPRegressor(**common).fit(X, y)
        return float(np.mean((m.predict(Xt) - yt) ** 2))
    m = MLPClassifier(**common).fit(X, y)
    return float(np.mean(m.predict(Xt) == yt))


def torch_run(X, Xt, y, yt, sizes, act, loss, lr, batch, epochs, seed):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(act())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    X, Xt = torch.tensor(X, dtype=torch.float32), torch.tensor(Xt, dtype=torch.float32)
    if loss in ("nll", "cross-entropy"):
        y, fn = torch.tensor(y), torch.nn.CrossEntropyLoss()
    elif loss == "bce":
        y, fn = torch.tensor(y, dtype=torch.float32).reshape(-1, 1), torch.nn.BCEWithLogitsLoss()
    else:
        y, fn = torch.tensor(y, dtype=torch.float32).reshape(-1, 1), torch.nn.MSELoss()
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(X), generator=g).split(batch):
            opt.zero_grad()
            fn(net(X[idx]), y[idx]).backward()
            opt.step()
    with torch.no_grad():
        z = net(Xt)
        if loss in ("nll", "cross-entropy"):
            return float((z.argmax(1).numpy() == yt).mean())
        if loss == "bce":
            return float(((z[:, 0] > 0).numpy() == (yt > 0.5)).mean())
        return float(((z[:, 0].numpy() - yt) ** 2).mean())


def main():
    print("%-12s %-18s %-9s %10s %10s %10s" % ("data", "model", "metric", "descent", "sklearn", "torch"))
    with tempfile.TemporaryDirectory() as tmp:
        for name, load, hidden, (dact, sact, tact), loss, lr, batch, epochs, inputs in CASES:
            d = load()
            X_train, X_test, y_train, y_test = train_test_split(d.data, d.target, test_size=0.25, random_state=0)
            write_csv(f"{tmp}/{name}-train.csv", X_train, y_train)
            write_csv(f"{tmp}/{name}-test.csv", X_test, y_test)
            outputs = 1 if loss in ("bce", "mse") else int(d.target.max()) + 1
            sizes = [X_train.shape[1]] + hidden + [outputs]
            Xp, Xtp = prepare(X_train, X_test, inputs)
            ours = np.median([descent_run(tmp, name, sizes, dact, loss, lr, batch, epochs, inputs, s) for s in SEEDS])
            theirs = np.median([sklearn_run(Xp, Xtp, y_train, y_test, hidden, sact, loss, lr, batch, epochs, s)
                                for s in SEEDS])
            torchs = np.median([torch_run(Xp, Xtp, y_train, y_test, sizes, tact, loss, lr, batch, epochs, s)
                                for s in SEEDS])
            metric = "test MSE" if loss == "mse" else "accuracy"
            model = "-".join(map(str, sizes)) + " " + dact
            print("%-12s %-18s %-9s %10.4f %10.4f %10.4f" % (name, model, metric, ours, theirs, torchs), flush=True)


if __name__ == "__main__":
    main()
