"""Training speed of the engine beside a plain PyTorch loop, in one run.

Usage: python bench/bench_training.py --data MNIST_DIR [--epochs-to-target 1] [--repeats 5]

Prints Markdown tables. Both loops train the same LeNet on the same normalised tensors
with the same batch size and optimiser, without augmentation. They alternate in segments
of a few hundred batches, so load from other processes hits both alike, and the ratio is
taken per round. Then one full engine epoch is timed, and the default recipe runs on
the full set to report when the test accuracy first reaches 99.0 %.
"""

import argparse
import platform
import resource
import statistics
import time

import torch
import torch.nn.functional as F

from engine.datasets import DigitDataset, load_dataset, normalize
from engine.memory import configure_allocator
from engine.models import LeNet
from engine.training import EpochProgress, TrainConfig, train


def plain_epoch(
    inputs: torch.Tensor, targets: torch.Tensor, batch_size: int, seed: int
) -> float:
    torch.manual_seed(seed)
    model = LeNet()
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    order = torch.randperm(len(inputs), generator=torch.Generator().manual_seed(seed))
    model.train()
    started = time.perf_counter()
    for start in range(0, len(inputs), batch_size):
        chosen = order[start : start + batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(inputs[chosen]), targets[chosen])
        loss.backward()
        optimizer.step()
    return len(inputs) / (time.perf_counter() - started)


def engine_epoch(
    train_set: DigitDataset, test_set: DigitDataset, batch_size: int, seed: int
) -> float:
    config = TrainConfig(
        epochs=1,
        batch_size=batch_size,
        learning_rate=0.01,
        schedule="constant",
        augment=False,
        seed=seed,
    )
    rates: list[float] = []
    train(
        config,
        train_set=train_set,
        test_set=test_set,
        on_batch=lambda p: rates.append(p.images_per_second),
    )
    return rates[-1]


def time_to_accuracy(
    train_set, test_set, target: float, epochs: int
) -> tuple[float | None, list[tuple[int, float, float]]]:
    history: list[tuple[int, float, float]] = []
    reached: list[float] = []
    started = time.perf_counter()

    def on_epoch(progress: EpochProgress) -> None:
        elapsed = time.perf_counter() - started
        history.append((progress.epoch, progress.test_accuracy, elapsed))
        if progress.test_accuracy >= target and not reached:
            reached.append(elapsed)

    config = TrainConfig(epochs=epochs)
    train(config, train_set=train_set, test_set=test_set, on_epoch=on_epoch)
    return (reached[0] if reached else None), history


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", required=True, help="folder with the four MNIST IDX files"
    )
    parser.add_argument("--batch-size", type=int, default=TrainConfig().batch_size)
    parser.add_argument(
        "--repeats", type=int, default=5, help="alternating rounds of both loops"
    )
    parser.add_argument(
        "--segment-batches",
        type=int,
        default=200,
        help="batches per loop in each round",
    )
    parser.add_argument(
        "--epochs-to-target",
        type=int,
        default=1,
        help="epochs of the default recipe run on the full set; the one-cycle schedule is fitted to this many",
    )
    parser.add_argument(
        "--skip-target", action="store_true", help="measure throughput only"
    )
    args = parser.parse_args()

    # Both loops run with the allocator settings that engine.train applies, so the
    # comparison measures the loop and not the allocator.
    configure_allocator()
    train_set = load_dataset(args.data, "train")
    test_set = load_dataset(args.data, "test")
    segment = args.segment_batches * args.batch_size
    inputs = normalize(train_set.images[:segment])
    targets = torch.from_numpy(train_set.labels[:segment])
    segment_set = DigitDataset(
        train_set.images[:segment], train_set.labels[:segment], "segment"
    )
    small_test = DigitDataset(test_set.images[:500], test_set.labels[:500], "test-500")

    plain_epoch(
        inputs[: 20 * args.batch_size],
        targets[: 20 * args.batch_size],
        args.batch_size,
        0,
    )
    plain, engine_rates = [], []
    for round_index in range(args.repeats):
        plain.append(plain_epoch(inputs, targets, args.batch_size, round_index))
        engine_rates.append(
            engine_epoch(segment_set, small_test, args.batch_size, round_index)
        )
    ratios = sorted(e / p for e, p in zip(engine_rates, plain, strict=True))

    started = time.perf_counter()
    full_rate = engine_epoch(train_set, test_set, args.batch_size, 0)
    epoch_s = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"machine: {platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(
        f"\n{args.repeats} alternating rounds of {args.segment_batches} batches of {args.batch_size}:"
    )
    print("\n| loop | images/s, median | images/s, best |")
    print("| --- | --- | --- |")
    print(f"| plain PyTorch | {statistics.median(plain):,.0f} | {max(plain):,.0f} |")
    print(
        f"| engine `train` | {statistics.median(engine_rates):,.0f} | {max(engine_rates):,.0f} |"
    )
    print(
        f"\nengine / plain per round: median {statistics.median(ratios):.2f}, range {ratios[0]:.2f} to {ratios[-1]:.2f}"
    )
    print(
        f"one full engine epoch of {len(train_set):,} images: {epoch_s:.1f} s "
        f"({full_rate:,.0f} images/s), test evaluation included"
    )
    print(f"peak resident memory of this process: {peak_mib:,.0f} MiB")

    if not args.skip_target:
        reached, history = time_to_accuracy(
            train_set, test_set, 0.99, args.epochs_to_target
        )
        print("\ndefault recipe on the full set: epoch, test accuracy, seconds")
        for epoch, accuracy, elapsed in history:
            print(f"  {epoch:>2}  {accuracy:.2%}  {elapsed:6.1f}")
        print(f"time to 99.0 %: {reached:.1f} s" if reached else "99.0 % not reached")


if __name__ == "__main__":
    main()
