"""The stand-in's state on disk, for the demo: a restarted demo's database still points at the
drafts the stand-in made before, so "Send again" must find them there.

Generic on purpose: every attribute of the store but its lock is saved, so state the store gains
later is kept without a change here.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from .server import PaddleStandin
from .store import Store


def store_save(store: Store, path: Path) -> None:
    """Write the store's state to `path`, atomically: a crash leaves the previous file whole."""
    with store.lock:
        data = pickle.dumps({k: v for k, v in vars(store).items() if k != "lock"})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def store_load(store: Store, path: Path) -> bool:
    """Restore the state `store_save` wrote; False (and the store untouched) without a file.
    Attributes the file lacks keep the fresh store's defaults."""
    if not path.exists():
        return False
    # The file is the stand-in's own, under the project's ignored data folder.
    state = pickle.loads(path.read_bytes())
    with store.lock:
        store.reset()
        vars(store).update(state)
    return True


class PersistentPaddleStandin(PaddleStandin):
    """A stand-in that starts from `state_file` and saves to it after every write request."""

    def __init__(self, *args: Any, state_file: str | Path, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state_file = Path(state_file)
        store_load(self.state, self.state_file)

    def __call__(self, environ: dict[str, Any], start_response: Any):
        try:
            return super().__call__(environ, start_response)
        finally:
            if environ["REQUEST_METHOD"] not in ("GET", "HEAD", "OPTIONS"):
                store_save(self.state, self.state_file)
