"""Executes a notebook from top to bottom and fails if a cell raises.

Usage: python examples/run_notebook.py [NOTEBOOK] (default examples/analysis.ipynb)

CI runs it in the venv the package is installed into (with nbclient and
ipykernel): the notebook runs with its own folder as the working directory,
as Jupyter would run it, and its outputs are not written back.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("analysis.ipynb"))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                sys.stdout.write(out["text"])
    print(f"{path}: {len(nb.cells)} cells executed")


if __name__ == "__main__":
    main()
