"""The import graph of microblog/ has no loops: plumbing imports no feature, features import
plumbing and, downhill only, the core models. A module that imports `microblog.a.b` also runs
`microblog/a/__init__.py` (unless it lives inside `microblog.a`): that counts as importing it.
Imports inside functions count too (they only hide a loop)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "microblog"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_by(module: str, path: Path, modules: set[str]) -> set[str]:
    """The modules of microblog/ that importing `module` runs, directly."""
    targets = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from package import name`: a submodule if there is one by that name.
            targets += [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                        for alias in node.names]
    found = set()
    for target in targets:
        if not target.startswith("microblog."):
            continue  # the top package is the app factory: everything is inside it
        while target not in modules:
            target = target.rpartition(".")[0]
        parts = target.split(".")
        for depth in range(2, len(parts) + 1):  # the packages on the way, then the module itself
            name = ".".join(parts[:depth])
            if name in modules and name != module and not module.startswith(name + "."):
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: imported_by(name, path, set(paths)) for name, path in paths.items()}


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iteratively)."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_two_modules_import_each_other():
    graph = import_graph()
    assert not [f"{', '.join(group)}: " + "; ".join(
        f"{name} -> {', '.join(sorted(graph[name] & set(group)))}" for name in group) for group in loops(graph)]


def test_the_loop_finder_sees_loops_through_packages_and_functions():
    # A loop of three, one edge through a package's __init__: found; a chain: not a loop.
    assert loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert loops({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    modules = {"microblog.x", "microblog.x.models", "microblog.y"}
    source = "def f():\n    from ..x.models import Thing\n"
    path = ROOT / "tests" / "_probe_module.py"
    path.write_text(source)
    try:
        assert imported_by("microblog.y.inner", path, modules) == {"microblog.x", "microblog.x.models"}
        # Inside its own package, a sibling's import does not run the package again.
        assert imported_by("microblog.x.routes", path, modules) == {"microblog.x.models"}
    finally:
        path.unlink()


def test_plumbing_imports_no_feature():
    # i18n counts as plumbing: every page and message speaks the reader's language.
    plumbing = {"microblog.db", "microblog.web", "microblog.jobs", "microblog.paging", "microblog.security",
                "microblog.forms", "microblog.config", "microblog.events", "microblog.render_cache",
                "microblog.clock"}
    features = ({path.parent.name for path in PACKAGE.glob("*/__init__.py")} - {"i18n"}
                - {name.split(".")[1] for name in plumbing})  # jobs/ is plumbing in a folder
    graph = import_graph()
    upward = {name: sorted(t for t in graph[name] if t.split(".")[1] in features)
              for name in plumbing if name in graph}
    assert not {name: targets for name, targets in upward.items() if targets}
