"""W&B's PyTorch experiment-tracking tutorial with runlog.wandb, and what the
runs give back.

Three real PyTorch runs of an MLP classifier on MNIST with random dropout
(train metrics per step, val loss and accuracy per epoch, a predictions
table with the images logged with commit=False on the last epoch, a
checkpoint per epoch through torch.save + log_model, summary
["test_accuracy"]), then the alerts tutorial's run (an alert whenever the
accuracy drops below a threshold). Then the runs are read back with
runlog.runs() (the best one printed), their loss curves plotted to a PNG,
and exported to a W&B offline run each and one HDF5 file.

MNIST cannot be downloaded here: the four MNIST idx files are written from
scikit-learn's bundled handwritten digits (8x8, upscaled to 28x28), in the
layout torchvision's MNIST(root, download=False) reads.

    PYTHONPATH=build/python:python /usr/bin/python3 examples/pytorch_mnist.py OUT
"""
import os
import random
import struct
import sys

# Two threads for torch, which wait for work without spinning: OpenMP's
# default busy wait makes each op ~50x slower on a machine whose cores are
# busy with other work (set before torch loads libgomp).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torchvision  # noqa: E402
import torchvision.transforms as T  # noqa: E402

import runlog  # noqa: E402
import runlog.wandb as wandb  # noqa: E402  (was: import wandb)

OUT = sys.argv[1] if len(sys.argv) > 1 else "demo-out/pytorch"
RUNS = os.path.join(OUT, "runs")
torch.set_num_threads(2)


# ---- MNIST from scikit-learn's digits ----------------------------------------------------

def write_idx(path, array):
    """An idx file (http://yann.lecun.com/exdb/mnist/): magic 0x08 (ubyte)
    and the number of dimensions, each dimension big-endian, the bytes."""
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 0x08, array.ndim))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def make_mnist(root):
    raw = os.path.join(root, "MNIST", "raw")
    if os.path.exists(os.path.join(raw, "t10k-labels-idx1-ubyte")):
        return
    from sklearn.datasets import load_digits
    digits = load_digits()
    # 8x8 of 0..16 -> 24x24 (each pixel 3x3) of 0..255, centred in 28x28.
    img = np.kron(digits.images, np.ones((3, 3))) * (255.0 / 16.0)
    img = np.pad(img, ((0, 0), (2, 2), (2, 2))).round().clip(0, 255).astype(np.uint8)
    labels = digits.target.astype(np.uint8)
    order = np.random.default_rng(0).permutation(len(labels))
    img, labels = img[order], labels[order]
    n_train = 1500
    os.makedirs(raw, exist_ok=True)
    write_idx(os.path.join(raw, "train-images-idx3-ubyte"), img[:n_train])
    write_idx(os.path.join(raw, "train-labels-idx1-ubyte"), labels[:n_train])
    write_idx(os.path.join(raw, "t10k-images-idx3-ubyte"), img[n_train:])
    write_idx(os.path.join(raw, "t10k-labels-idx1-ubyte"), labels[n_train:])


# ---- the tutorial's training script, unchanged but for the import ----------------------

def get_dataloader(is_train, batch_size, slice=5):
    full_dataset = torchvision.datasets.MNIST(root=os.path.join(OUT, "data"), train=is_train,
                                              transform=T.ToTensor(), download=False)
    sub_dataset = torch.utils.data.Subset(full_dataset, indices=range(0, len(full_dataset), slice))
    return torch.utils.data.DataLoader(sub_dataset, batch_size=batch_size, shuffle=is_train,
                                       pin_memory=False, num_workers=0)


def get_model(dropout):
    "A simple model"
    return nn.Sequential(nn.Flatten(),
                         nn.Linear(28 * 28, 256),
                         nn.BatchNorm1d(256),
                         nn.ReLU(),
                         nn.Dropout(dropout),
                         nn.Linear(256, 10))


def validate_model(model, valid_dl, loss_func, log_images=False, batch_idx=0):
    "Compute performance of the model on the validation dataset and log a wandb.Table"
    model.eval()
    val_loss = 0.
    with torch.inference_mode():
        correct = 0
        for i, (images, labels) in enumerate(valid_dl):
            outputs = model(images)
            val_loss += loss_func(outputs, labels) * labels.size(0)
            _, predicted = torch.max(outputs.data, 1)
            correct += (predicted == labels).sum().item()
            if i == batch_idx and log_images:
                log_image_table(images, predicted, labels, outputs.softmax(dim=1))
    return val_loss / len(valid_dl.dataset), correct / len(valid_dl.dataset)


def log_image_table(images, predicted, labels, probs):
    "Log a wandb.Table with (img, pred, target, scores)"
    table = wandb.Table(columns=["image", "pred", "target"] + [f"score_{i}" for i in range(10)])
    for img, pred, targ, prob in zip(images.to("cpu"), predicted.to("cpu"), labels.to("cpu"),
                                     probs.to("cpu")):
        table.add_data(wandb.Image(img[0].numpy() * 255), pred, targ, *prob.numpy())
    wandb.log({"predictions_table": table}, commit=False)


def train_one(run_index):
    wandb.init(
        project="pytorch-intro",
        name=f"mlp-{run_index}",
        config={
            "epochs": 3,
            "batch_size": 64,
            "lr": 1e-3,
            "dropout": random.uniform(0.01, 0.80),
        })
    config = wandb.config

    # 1,500 training digits here, not 60,000: all of them (the tutorial takes a fifth).
    train_dl = get_dataloader(is_train=True, batch_size=config.batch_size, slice=1)
    valid_dl = get_dataloader(is_train=False, batch_size=2 * config.batch_size)
    n_steps_per_epoch = -(-len(train_dl.dataset) // config.batch_size)

    model = get_model(config.dropout)
    loss_func = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)

    example_ct = 0
    step_ct = 0
    for epoch in range(config.epochs):
        model.train()
        for step, (images, labels) in enumerate(train_dl):
            outputs = model(images)
            train_loss = loss_func(outputs, labels)
            optimizer.zero_grad()
            train_loss.backward()
            optimizer.step()

            example_ct += len(images)
            metrics = {"train/train_loss": train_loss,  # a tensor that requires grad
                       "train/epoch": (step + 1 + (n_steps_per_epoch * epoch)) / n_steps_per_epoch,
                       "train/example_ct": example_ct}
            if step + 1 < n_steps_per_epoch:
                wandb.log(metrics)
            step_ct += 1

        # The predictions table on the last epoch only, committed with the
        # epoch's last train row and its val metrics.
        val_loss, accuracy = validate_model(model, valid_dl, loss_func,
                                            log_images=(epoch == (config.epochs - 1)))
        val_metrics = {"val/val_loss": val_loss, "val/val_accuracy": accuracy}
        wandb.log({**metrics, **val_metrics})

        ckpt = os.path.join(OUT, f"model-{wandb.run.id}.pt")
        torch.save(model.state_dict(), ckpt)
        wandb.log_model(ckpt, name=f"mnist-mlp-{run_index}", aliases=[f"epoch-{epoch}"])
        print(f"  epoch {epoch}: train loss {train_loss:.3f}, valid loss {val_loss:.3f}, "
              f"accuracy {accuracy:.2f}")

    # On the test set the tutorial keeps as "test".
    test_dl = get_dataloader(is_train=False, batch_size=256, slice=1)
    _, test_accuracy = validate_model(model, test_dl, loss_func)
    wandb.summary["test_accuracy"] = test_accuracy
    path = wandb.run.path
    wandb.finish()
    return path


def alert_run():
    """The alerts tutorial: an alert whenever accuracy drops below a threshold
    (at most one per 300 s: the later ones are not recorded)."""
    run = wandb.init(project="pytorch-intro", name="alerts")
    acc_threshold = 0.3
    for training_step in range(1000):
        accuracy = round(random.random() + random.random(), 3)
        wandb.log({"accuracy": accuracy})
        if accuracy <= acc_threshold:
            wandb.alert(title="Low Accuracy",
                        text=f"Accuracy {accuracy} at step {training_step} is below the "
                             f"acceptable threshold, {acc_threshold}",
                        level=wandb.AlertLevel.WARN, wait_duration=300)
    path = run.path
    wandb.finish()
    return path


def main():
    random.seed(0)
    torch.manual_seed(0)
    os.environ["RUNLOG_DIR"] = RUNS
    make_mnist(os.path.join(OUT, "data"))
    paths = []
    for i in range(3):
        paths.append(train_one(i))
    alerts = alert_run()

    # ---- back in pandas and numpy -------------------------------------------------------
    df = runlog.runs(paths)
    best = df.sort_values("summary.test_accuracy", ascending=False).iloc[0]
    print(f"best of {len(df)} runs: {best['name']} (dropout {best['config.dropout']:.2f}, "
          f"test accuracy {best['summary.test_accuracy']:.3f}, val accuracy "
          f"{best['summary.val/val_accuracy']:.3f}) in {best['path']}")
    a = runlog.open(alerts)
    n_alerts = sum(1 for r in a.records() if r["type"] == "alert")
    print(f"{a.name}: {n_alerts} alert recorded (wait_duration held back the rest)")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    for p in paths:
        run = runlog.open(p)
        h = run.history("train/train_loss")
        ax.plot(h.steps, h.values, label=f"{run.name} train", lw=0.8)
        v = run.history("val/val_loss")
        ax.plot(v.steps, v.values, "o--", label=f"{run.name} val")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=7)
    png = os.path.join(OUT, "loss-curves.png")
    fig.savefig(png, dpi=100)
    print(f"wrote {png}")

    t = runlog.open(best["path"]).table("predictions_table")
    print(f"predictions_table: {len(t)} rows, columns {t.columns[:4]}..., "
          f"image cells {t.data[0][0].shape}")

    wb = os.path.join(OUT, "wandb")
    runlog.export_wandb(paths + [alerts], wb)
    print(f"exported W&B offline runs -> {wb}/ (wandb sync {wb}/offline-run-*)")
    h5 = os.path.join(OUT, "runs.h5")
    runlog.export_hdf5(paths + [alerts], h5)
    print(f"exported HDF5 -> {h5} ({os.path.getsize(h5)} bytes)")


if __name__ == "__main__":
    main()
