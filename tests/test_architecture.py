"""Imports run one way (docs/ARCHITECTURE.md): each module imports only from lower layers or its own
package, there is no import cycle, and importing one loss module stays light."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
NOT_CODE = {"tests", "benchmarks", "scripts", "docs", "data", "runs"}
# the layers of docs/ARCHITECTURE.md: a module may import a lower layer, or its own package
LAYERS = {
    "conventions": 0,
    "masking": 1,
    "metrics": 1,
    "sasv_metrics": 2,
    "calibration": 2,
    "confidence": 2,
    "augmentation": 2,
    "classifiers": 2,
    "datasets": 2,
    "extractors": 2,
    "losses": 2,
    "processors": 2,
    "common": 3,
    "model": 4,
    "published_weights": 4,
    "settings": 4,
    "training": 5,
    "parse_arguments": 6,
    "evaluation": 6,
    "reporting": 6,
    "inference": 7,
    "train_and_eval": 8,
    "score": 8,
    "evaluate": 8,
}


def project_modules() -> dict[str, Path]:
    modules = {}
    for path in REPOSITORY.rglob("*.py"):
        parts = path.relative_to(REPOSITORY).parts
        if parts[0] in NOT_CODE or any(part.startswith(".") for part in parts):
            continue
        name = ".".join(parts)[: -len(".py")]
        modules[name.removesuffix(".__init__")] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules that `name` imports (anywhere in the file, deferred imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}: relative import"
            candidates = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in modules:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                found.add(candidate)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_every_module_sits_in_a_layer_and_imports_only_lower_layers_or_its_own_package():
    for module, imported in import_graph().items():
        unit = module.split(".")[0]
        assert unit in LAYERS, f"{module}: place it in a layer of docs/ARCHITECTURE.md and of LAYERS here"
        for target in imported:
            target_unit = target.split(".")[0]
            assert target_unit == unit or LAYERS[target_unit] < LAYERS[unit], f"{module} imports {target}"


def test_package_init_files_import_nothing_of_the_project():
    graph, modules = import_graph(), project_modules()
    for module, path in modules.items():
        if path.name == "__init__.py":
            assert not graph[module], f"{module}/__init__.py imports {graph[module]}"


def test_there_is_no_import_cycle():
    graph = import_graph()
    finished: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(module):] + [module]))
        if module in finished:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        finished.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_importing_one_loss_module_loads_no_other_component_family():
    code = (
        "import sys, losses.cosface; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'common', 'datasets', 'extractors', 'processors', "
        "'classifiers', 'augmentation', 'pytorch_metric_learning', 'torchaudio', 'scipy'})); "
        "print(sorted(m for m in sys.modules if m.startswith('losses.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True, check=True)
    families, loss_modules = done.stdout.splitlines()
    assert families == "[]"
    assert loss_modules == "['losses.base', 'losses.cosface', 'losses.cosine_margin', 'losses.geometry']"
