"""The model the app shows: its weights, its name, and its test-set evaluation."""

import logging
from pathlib import Path
from typing import Any

from PySide6 import QtCore

logger = logging.getLogger(__name__)

SOURCE_SHIPPED = "shipped"
SOURCE_TRAINED = "trained"
SOURCE_FILE = "file"


class ModelState(QtCore.QObject):
    """The current model, shared by every tab; used only from the GUI thread.

    It only stores references. Nothing here runs torch operations, because every torch
    operation belongs on the engine thread (see ``desktop.workers``).

    Signals:
        model_changed(): a new model was set, and ``evaluation`` was cleared.
        evaluation_changed(): ``evaluation`` was set or cleared.
        test_set_changed(): ``test_set`` was replaced.
    """

    model_changed = QtCore.Signal()
    evaluation_changed = QtCore.Signal()
    test_set_changed = QtCore.Signal()

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._model: Any = None
        self._loaded: Any = None
        self._train_result: Any = None
        self._display_name = ""
        self._source = ""
        self._metadata: dict = {}
        self._metadata_accuracy: float | None = None
        self._evaluation: Any = None
        self._test_set: Any = None

    @property
    def model(self) -> Any:
        """The torch ``nn.Module`` (CPU, eval mode), or None before any model is set."""
        return self._model

    @property
    def loaded(self) -> Any:
        """The ``engine.LoadedModel`` when the model came from a file, else None."""
        return self._loaded

    @property
    def train_result(self) -> Any:
        """The ``engine.TrainResult`` when the model was trained here, else None."""
        return self._train_result

    @property
    def display_name(self) -> str:
        """A short name for people, such as "Shipped LeNet" or "Trained 14:02"."""
        return self._display_name

    @property
    def source(self) -> str:
        """Where the model came from: "shipped", "trained", "file", or "" when unset."""
        return self._source

    @property
    def metadata(self) -> dict:
        """The weights metadata (architecture, training config, data, metrics)."""
        return self._metadata

    @property
    def accuracy(self) -> float | None:
        """Test accuracy in 0..1: from the latest evaluation, else from the metadata."""
        if self._evaluation is not None:
            return float(self._evaluation.accuracy)
        return self._metadata_accuracy

    @property
    def accuracy_source(self) -> str:
        """The data set the ``accuracy`` was measured on, or "" when unknown."""
        if self._evaluation is not None and self._test_set is not None:
            return self._test_set.name
        data = self._metadata.get("metrics", {}).get("data") or self._metadata.get(
            "data"
        )
        if isinstance(data, dict):
            return str(data.get("name", ""))
        return ""

    @property
    def evaluation(self) -> Any:
        """The ``engine.EvaluationResult`` of ``model`` on ``test_set``, or None."""
        return self._evaluation

    @property
    def test_set(self) -> Any:
        """The ``engine.DigitDataset`` for evaluation and the Layers tab, or None."""
        return self._test_set

    def set_model(self, source_object: Any, display_name: str) -> None:
        """Make a loaded weights file or a finished training run the current model.

        Args:
            source_object: an ``engine.LoadedModel`` (has ``path``) or an
                ``engine.TrainResult`` (has ``config``). A TrainResult that carries an
                evaluation on the current test set sets ``evaluation`` as well.
            display_name: the name shown in the status bar and the tabs.
        """
        self._model = source_object.model
        self._display_name = display_name
        self._evaluation = None
        if hasattr(source_object, "path"):
            self._set_loaded(source_object)
        else:
            self._set_trained(source_object)
        logger.info("Current model is now %s (%s)", display_name, self._source)
        self.model_changed.emit()
        self.evaluation_changed.emit()

    def set_evaluation(self, result: Any) -> None:
        """Store the current model's evaluation on the current test set (or None)."""
        self._evaluation = result
        self.evaluation_changed.emit()

    def set_test_set(self, dataset: Any) -> None:
        """Replace the test set; the old evaluation no longer applies and is cleared."""
        self._test_set = dataset
        self.test_set_changed.emit()
        if self._evaluation is not None:
            self.set_evaluation(None)

    def _set_loaded(self, loaded: Any) -> None:
        from engine import SHIPPED_WEIGHTS

        self._loaded = loaded
        self._train_result = None
        self._metadata = dict(loaded.metadata or {})
        shipped = Path(loaded.path).resolve() == Path(SHIPPED_WEIGHTS).resolve()
        self._source = SOURCE_SHIPPED if shipped else SOURCE_FILE
        accuracy = self._metadata.get("metrics", {}).get("accuracy")
        self._metadata_accuracy = None if accuracy is None else float(accuracy)

    def _set_trained(self, result: Any) -> None:
        self._loaded = None
        self._train_result = result
        self._source = SOURCE_TRAINED
        self._metadata = {"training_config": _config_dict(result.config)}
        self._metadata_accuracy = result.best_accuracy
        evaluation = getattr(result, "evaluation", None)
        if evaluation is not None and self._matches_test_set(evaluation):
            self._evaluation = evaluation

    def _matches_test_set(self, evaluation: Any) -> bool:
        return self._test_set is not None and evaluation.count == len(self._test_set)


def _config_dict(config: Any) -> dict:
    import dataclasses

    if dataclasses.is_dataclass(config):
        return dataclasses.asdict(config)
    return {}
