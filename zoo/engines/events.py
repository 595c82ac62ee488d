"""Training events and progress: callbacks, the plugins' ``zoo_train_event`` hook, the progress bar."""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any

from zoo.errors import ZooError

EVENTS: tuple[str, ...] = ("on_train_start", "on_step_end", "on_eval_end", "on_checkpoint", "on_train_end")


class StopTraining(Exception):
    """Raise from a callback to end the run early and cleanly (the step reached is checkpointed)."""


class Events:
    """Fans an event out to the plain callbacks and to every plugin's ``zoo_train_event`` hook.

    A callback is a callable ``cb(event, state)`` or an object with ``on_<event>(state)`` methods.
    """

    _warned = False

    def __init__(self, callbacks: Sequence[Any], enabled: bool = True) -> None:
        self.callbacks = list(callbacks)
        self.enabled = enabled
        self.hook = self._plugin_hook() if enabled else None

    @classmethod
    def _plugin_hook(cls) -> Any:
        try:
            from zoo import discovery

            return discovery.plugins().manager.hook.zoo_train_event
        except ZooError as exc:  # an unrelated broken plugin (strict mode) must not stop training
            if not cls._warned:
                cls._warned = True
                first = str(exc).splitlines()[0]
                warnings.warn(
                    f"training events will not reach plugins: {first}", RuntimeWarning, stacklevel=3
                )
            return None

    def fire(self, event: str, state: dict[str, Any]) -> None:
        """Call every callback and the plugin hook with ``state`` (plus ``event``)."""
        if not self.enabled:
            return
        state = dict(state, event=event)
        for cb in self.callbacks:
            method = getattr(cb, event, None)
            if method is not None and callable(method):
                method(state)
            elif callable(cb):
                cb(event, state)
        if self.hook is not None:
            self.hook(event=event, state=state)


class Progress:
    """A tqdm bar on the main rank (loss, learning rate, samples per second)."""

    def __init__(self, total: int, initial: int, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, initial=initial, desc="train", unit="step", dynamic_ncols=True, mininterval=0.5
            )
        self._t0 = time.perf_counter()
        self._samples = 0

    def update(self, samples: int, loss: float, lr: float, refresh: bool) -> float:
        """Advance one step; returns the samples per second so far."""
        self._samples += samples
        rate = self._samples / max(time.perf_counter() - self._t0, 1e-9)
        if self.bar is not None:
            if refresh:
                self.bar.set_postfix(
                    loss=f"{loss:.4g}", lr=f"{lr:.3g}", samples_s=f"{rate:.1f}", refresh=False
                )
            self.bar.update(1)
        return rate

    def close(self) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()
