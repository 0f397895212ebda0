"""Short engine jobs for the Layers, Photo reading and Theory tabs.

Each job is a ``desktop.workers.Worker`` run on the one engine thread, so the GUI thread
never runs a torch operation. All of them are interleavable: submitted while training
runs, they run between two batches instead of waiting for the run to end.
"""

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6 import QtCore

import engine
from desktop.workers import Worker

logger = logging.getLogger(__name__)

# A drawing pixel at or above this grey level counts as ink. The fainter anti-aliased
# edges of the pad's strokes are dropped, as binarising a photo drops them.
INK_THRESHOLD = 128


@dataclass(frozen=True)
class ActivationOutcome:
    """The inputs and outputs the Layers tab shows for one image.

    Attributes:
        request_id: the id the tab gave the request; stale ids are ignored.
        image_28: uint8 (28, 28), the image exactly as the network saw it.
        activations: ``engine.LayerActivation`` per stage, in forward order.
        probabilities: float32 (10,), softmax of the output.
        filters: conv stage name to float32 (out, in, k, k) kernels, or None when the
            request did not ask for them.
    """

    request_id: int
    image_28: npt.NDArray[np.uint8]
    activations: list[Any]
    probabilities: npt.NDArray[np.float32]
    filters: dict[str, npt.NDArray[np.float32]] | None


class ActivationWorker(Worker):
    """Captures every stage's output for one image with ``engine.capture_activations``.

    The input is either a 28x28 MNIST-style image (a test image) or a drawing, which is
    first thresholded and fitted to MNIST's layout by ``engine.normalise_crop``, the
    same step the photo reader applies to each digit it finds.
    """

    job_name = "Capturing activations"
    interleavable = True

    def __init__(
        self,
        request_id: int,
        model: Any,
        image_gray_u8: npt.NDArray[np.uint8],
        *,
        is_drawing: bool,
        with_filters: bool,
    ) -> None:
        super().__init__()
        self.request_id = request_id
        self.model = model
        self.image_gray_u8 = image_gray_u8
        self.is_drawing = is_drawing
        self.with_filters = with_filters

    def work(self) -> ActivationOutcome:
        image_28 = self.image_gray_u8
        if self.is_drawing:
            image_28 = engine.normalise_crop(self.image_gray_u8 >= INK_THRESHOLD)
        activations = engine.capture_activations(self.model, image_28)
        probabilities = engine.predict_probabilities(self.model, image_28)[0]
        filters = engine.conv_filters(self.model) if self.with_filters else None
        return ActivationOutcome(
            request_id=self.request_id,
            image_28=image_28,
            activations=activations,
            probabilities=probabilities,
            filters=filters,
        )


@dataclass(frozen=True)
class ReadingOutcome:
    """A photo read by ``engine.read_digits``, with the picture to draw it on.

    Attributes:
        request_id: the id the tab gave the request; stale ids are ignored.
        reading: the ``engine.PhotoReading``.
        photo_rgb: uint8 (H, W, 3), the upright photo the boxes refer to.
    """

    request_id: int
    reading: Any
    photo_rgb: npt.NDArray[np.uint8]


class ReadingWorker(Worker):
    """Decodes a photo and reads its digits; stops early when ``stop()`` is called.

    Signals:
        request_failed(int, str): emitted with the request id right after ``failed``.

    Args:
        request_id: returned in the outcome, so the tab can drop a stale result.
        source: a file path, encoded image bytes or an RGB uint8 array.
        model: the network that classifies each crop.
        rotation_deg: 0, 90, 180 or 270 to override the detected orientation, or None
            to detect it.
    """

    request_failed = QtCore.Signal(int, str)

    job_name = "Reading a photo"
    interleavable = True

    def __init__(
        self, request_id: int, source: Any, model: Any, rotation_deg: int | None
    ) -> None:
        super().__init__()
        self.request_id = request_id
        self.source = source
        self.model = model
        self.rotation_deg = rotation_deg
        # ``failed`` carries only the message. Re-emitting it here, on the engine
        # thread, adds the request id, which a slot on the GUI thread could not read
        # from the worker safely once the worker is deleted.
        self.failed.connect(self._on_failed)

    def _on_failed(self, message: str) -> None:
        self.request_failed.emit(self.request_id, message)

    def work(self) -> ReadingOutcome | None:
        # The reader decodes the source itself, so that its warnings (such as a
        # truncated JPEG) reach the reading. A second decode gives the picture to draw.
        try:
            reading = engine.read_digits(
                self.source,
                self.model,
                rotation_deg=self.rotation_deg,
                stop=self.stop_event,
            )
        except engine.ReadingCancelled:
            return None
        photo_rgb = engine.decode_image(self.source)
        return ReadingOutcome(self.request_id, reading, photo_rgb)


class BackpropWorker(Worker):
    """Computes one worked backpropagation step with ``engine.backprop_step``.

    The step is a handful of scalar autograd operations, cheap enough for the GUI
    thread, but it runs here anyway so that the GUI thread never starts torch's thread
    pool, which slows a training run on the engine thread.
    """

    job_name = "Backpropagation step"
    interleavable = True

    def __init__(self, request_id: int, values: dict[str, float]) -> None:
        super().__init__()
        self.request_id = request_id
        self.values = dict(values)

    def work(self) -> tuple[int, Any]:
        return self.request_id, engine.backprop_step(**self.values)
