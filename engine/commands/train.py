"""The ``digitlab train`` subcommand."""

import argparse
import json
import logging
import sys
from pathlib import Path

from engine.commands.arguments import (
    non_negative_float,
    positive_float,
    positive_int,
    unit_interval_float,
)
from engine.devices import DEVICES
from engine.errors import ConfigError
from engine.models import WEIGHT_INITS
from engine.progress import ProgressBar
from engine.training import (
    OPTIMIZERS,
    SCHEDULES,
    BatchProgress,
    EpochProgress,
    TrainConfig,
    train,
)
from engine.weights import check_writable, save_weights

logger = logging.getLogger(__name__)
DEFAULTS = TrainConfig()


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        default="sample",
        metavar="sample|mnist|DIR",
        help="embedded sample, the full MNIST set in the user cache (downloaded when "
        "missing), or a folder holding the four MNIST IDX files",
    )


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a LeNet and save its weights",
        description="Train a LeNet, evaluating on the test split after every epoch, and save the best weights.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_data_argument(parser)
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=DEFAULTS.epochs,
        help="passes over the training split",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=DEFAULTS.batch_size,
        help="images per optimiser step",
    )
    parser.add_argument(
        "--lr", type=positive_float, default=DEFAULTS.learning_rate, help="peak learning rate"
    )
    parser.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default=DEFAULTS.optimizer,
        help="SGD with Nesterov momentum, or Adam",
    )
    parser.add_argument(
        "--momentum", type=unit_interval_float, default=DEFAULTS.momentum, help="SGD momentum"
    )
    parser.add_argument(
        "--weight-decay", type=non_negative_float, default=DEFAULTS.weight_decay, help="L2 penalty"
    )
    parser.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default=DEFAULTS.schedule,
        help="learning-rate schedule",
    )
    parser.add_argument(
        "--init",
        dest="weight_init",
        choices=WEIGHT_INITS,
        default=DEFAULTS.weight_init,
        help="weight initialisation; 'constant' shows why equal weights cannot learn",
    )
    parser.add_argument(
        "--no-augment",
        dest="augment",
        action="store_false",
        help="train without random shifts, rotations and scaling",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULTS.seed,
        help="seed for initialisation, shuffling and augmentation",
    )
    parser.add_argument(
        "--device", choices=DEVICES, default=DEFAULTS.device, help="where to train"
    )
    parser.add_argument(
        "--threads",
        dest="num_threads",
        type=positive_int,
        default=None,
        help="torch CPU threads (default: torch's choice)",
    )
    parser.add_argument(
        "--max-batches",
        type=positive_int,
        default=None,
        help="stop each epoch after this many batches, for a quick smoke run",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("lenet-trained.safetensors"),
        help="where to save the weights (.safetensors; metadata goes beside it as .json)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON object on stdout",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = TrainConfig(
        data=str(args.data),
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        optimizer=args.optimizer,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        weight_init=args.weight_init,
        augment=args.augment,
        seed=args.seed,
        device=args.device,
        num_threads=args.num_threads,
        max_batches=args.max_batches,
    )
    out = args.out
    if out.suffix != ".safetensors":
        raise ConfigError(f"--out {out} must end in .safetensors.")
    # Checked before the first batch, so a run of many minutes does not end in a
    # failed save.
    check_writable(out)

    bar = ProgressBar()

    def on_batch(progress: BatchProgress) -> None:
        done = (progress.epoch - 1) * progress.batches_per_epoch + progress.batch
        total = progress.epochs * progress.batches_per_epoch
        eta = f", {progress.eta_s:.0f} s left" if progress.eta_s is not None else ""
        bar.update(
            done / total,
            f"epoch {progress.epoch}/{progress.epochs} loss {progress.loss:.3f} "
            f"{progress.images_per_second:.0f} img/s{eta}",
        )

    def on_epoch(progress: EpochProgress) -> None:
        bar.update(progress.epoch / progress.epochs, "", force=True)
        bar.close()
        if not args.json:
            print(
                f"epoch {progress.epoch}/{progress.epochs}: train loss {progress.train_loss:.4f}, "
                f"test accuracy {progress.test_accuracy:.2%} ({progress.elapsed_s:.0f} s)",
                file=sys.stderr,
            )

    try:
        result = train(config, on_batch=on_batch, on_epoch=on_epoch)
    except KeyboardInterrupt:
        bar.close()
        raise
    saved = None
    # Weights are saved only when at least one epoch was evaluated: the finite-loss
    # snapshot of a run that diverged in its first epoch is not worth replacing a
    # file the user already has.
    if result.best_accuracy is not None:
        saved = save_weights(out, result.model, result.metadata())
    summary = {
        "status": result.status,
        "message": result.message,
        "best_accuracy": result.best_accuracy,
        "best_epoch": result.best_epoch,
        "epoch_accuracies": result.epoch_accuracies,
        "elapsed_s": round(result.elapsed_s, 2),
        "weights": str(saved) if saved else None,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(result.message)
        if saved:
            print(f"Weights saved to {saved}")
        else:
            print(f"No epoch finished, so no weights were saved; {out} is unchanged.")
    return 0 if result.status == "finished" else 1
