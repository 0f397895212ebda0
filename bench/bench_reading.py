"""Time the photo reader, measure its peak memory, and compare it with Tesseract.

Usage: python bench/bench_reading.py PHOTOS_DIR [--no-tesseract] [--repeat N]

Reads every photo listed in PHOTOS_DIR/MANIFEST.tsv, then a generated 12-megapixel
page (40 MNIST digits) and a 48-megapixel upscale of it. Each photo is read in a
fresh child process: the memory column is its peak resident size during the reads
(VmHWM, reset before each read through /proc/self/clear_refs, so Linux only) and,
in brackets, that peak above the resident size once the model is loaded, which
counts torch and OpenCV buffers that tracemalloc cannot see. The time is the
median of N reads in that process, model loading excluded; the first read also
pays for torch's first forward pass. Tesseract
(``tesseract IMG stdout --psm 6`` with a digits whitelist) runs on the same files
when it is installed; it is only a point of comparison, not a dependency.

Score per image: 1 - Levenshtein(read, truth) / len(truth), spaces removed.
"""

import argparse
import csv
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.score_reading import score  # noqa: E402

CHILD = """
import json, statistics, sys, time
sys.path.insert(0, {root!r})
from engine.reading import read_digits
from engine.weights import load_weights


def memory_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


model = load_weights().model
base = memory_kb("VmRSS")
peaks = []
times = []
for _ in range({repeat}):
    # Writing 5 to clear_refs resets the peak resident size (VmHWM) to the current
    # one (Linux 4.0 and later), so each read's peak is measured on its own.
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    start = time.perf_counter()
    reading = read_digits({path!r}, model)
    times.append(time.perf_counter() - start)
    peaks.append(memory_kb("VmHWM"))
print(json.dumps({{"digits": reading.digits, "seconds": statistics.median(times),
                  "peak_mb": max(peaks) / 1024, "base_mb": base / 1024}}))
"""


def read_in_child(path: Path, repeat: int) -> dict:
    code = CHILD.format(root=str(ROOT), path=str(path), repeat=repeat)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def tesseract(path: Path) -> tuple[str, float]:
    command = ["tesseract", str(path), "stdout", "--psm", "6",
               "-c", "tessedit_char_whitelist=0123456789"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    text = " ".join(done.stdout.split()) if done.returncode == 0 else ""
    return text, elapsed


def generated_pages(folder: Path) -> list[tuple[Path, str]]:
    """Write a 12 MP page of 40 MNIST digits and a 48 MP upscale of it as PNG."""
    import cv2

    from engine.weights import load_weights
    from tests.engine.reading_pages import DigitBank, compose_page, render_photo

    lines = ["3141592653", "5897932384", "6264338327", "9502884197"]
    bank = DigitBank(load_weights().model)
    ink, _ = compose_page(bank, lines, digit_px=340, gap_px=160, margin_px=200)
    photo = render_photo(ink, shadow=0.6, jpeg_quality=85)
    twelve = folder / "generated_12mp.png"
    cv2.imwrite(str(twelve), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    big = cv2.resize(photo, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    forty_eight = folder / "generated_48mp.png"
    cv2.imwrite(str(forty_eight), cv2.cvtColor(big, cv2.COLOR_RGB2BGR))
    truth = " ".join(lines)
    return [(twelve, truth), (forty_eight, truth)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path)
    parser.add_argument("--no-tesseract", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with open(args.photos / "MANIFEST.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    items = [(args.photos / row["file"], row["digits_in_reading_order"]) for row in rows]
    use_tesseract = not args.no_tesseract and shutil.which("tesseract") is not None

    with tempfile.TemporaryDirectory() as scratch:
        items += generated_pages(Path(scratch))
        print("| photo | pixels | ours score | ours s | ours peak MB (+ over model) | "
              "tesseract score | tesseract s |")
        print("|---|---|---|---|---|---|---|")
        ours, theirs = [], []
        for path, truth in items:
            import cv2

            shape = cv2.imread(str(path), cv2.IMREAD_UNCHANGED).shape
            mp = shape[0] * shape[1] / 1e6
            result = read_in_child(path, args.repeat)
            ours_score = score(result["digits"], truth)
            real = not path.name.startswith("generated_")
            if real:
                ours.append((ours_score, result["seconds"]))
            cells = [path.name, f"{mp:.1f} MP", f"{ours_score:.3f}",
                     f"{result['seconds']:.2f}",
                     f"{result['peak_mb']:.0f} (+{result['peak_mb'] - result['base_mb']:.0f})"]
            if use_tesseract:
                text, elapsed = tesseract(path)
                their_score = score(text, truth)
                if real:
                    theirs.append((their_score, elapsed))
                cells += [f"{their_score:.3f}", f"{elapsed:.2f}"]
            else:
                cells += ["-", "-"]
            print("| " + " | ".join(cells) + " |", flush=True)

    def summary(name: str, results: list[tuple[float, float]]) -> None:
        if not results:
            return
        scores = [value for value, _ in results]
        exact = sum(value == 1.0 for value in scores)
        print(f"{name}: mean score {statistics.mean(scores):.4f}, exact {exact} of "
              f"{len(scores)}, mean time {statistics.mean(t for _, t in results):.2f} s, "
              f"median time {statistics.median(t for _, t in results):.2f} s")

    print()
    summary("Digit Lab reader (shared photos)", ours)
    summary("Tesseract (shared photos)", theirs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
