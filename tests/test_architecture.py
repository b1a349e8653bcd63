"""The layout rules of docs (architecture C4), checked on the source with `ast` so they cannot drift."""
import ast
from pathlib import Path

import pytest

SHOP = Path(__file__).resolve().parent.parent / "shop"
# Bottom to top: a domain's non-view modules may import only core, extensions and domains to their left.
ORDER = ["core", "accounts", "producers", "catalog", "certification", "sales_points", "traceability",
         "inventory", "orders", "payments", "checkout", "recalls", "books", "search", "audit", "admin"]
# The domain layer is everything in a domain that is not the web or command-line edge: views, forms and cli
# modules (and their `*_views`, `*_forms`, `*_cli` variants), and the guards that decide who the current request's
# user may reach (access, permissions), are the edge; every other module is held to the rules.
EDGE = ("views", "forms", "cli", "access", "permissions")
UNIT_OF_WORK = "core/unit_of_work.py"  # the one module that commits: views, commands and webhooks go through it
WHOOSH_MODULES = {"search/analysis.py", "search/schemas.py", "search/store.py", "search/indexing.py",
                  "search/whoosh_internals.py"}
ADAPTERS = {"whoosh": WHOOSH_MODULES, "PIL": {"core/images.py"}, "stripe": {"payments/stripe_gateway.py"},
            "fpdf": {"core/pdf.py"}}
# API view modules outside their domain's folder: the trace endpoint serves the trace page's data as JSON, with the
# page's journal cache and helpers (shop.traceability.views).
VIEWS_OF = {"api/trace_views.py": "traceability"}
REQUEST_STATE = {("flask", "request"), ("flask", "session"), ("flask", "g"), ("flask_login", "current_user")}


def modules():
    for path in sorted(SHOP.rglob("*.py")):
        rel = path.relative_to(SHOP)
        parts = list(rel.with_suffix("").parts)
        yield rel, parts, parts[:-1], ast.parse(path.read_text(encoding="utf-8"), str(path))


def imports(tree, package):
    """(module, name) pairs; `import a.b` gives ("a.b", None); relative imports are resolved."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = ["shop", *package][: len(package) + 2 - node.level]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                yield base, alias.name


def domain_of(parts):
    return parts[0] if len(parts) > 1 and parts[0] in ORDER else None


def is_view(parts):
    return parts[-1] == "views" or parts[-1].endswith("_views")


def is_session_call(func, method: str) -> bool:
    """`db.session.<method>(…)` or `session.<method>(…)` (not a Whoosh writer's or a file's commit)."""
    if not (isinstance(func, ast.Attribute) and func.attr == method):
        return False
    receiver = func.value
    return ((isinstance(receiver, ast.Name) and receiver.id == "session")
            or (isinstance(receiver, ast.Attribute) and receiver.attr == "session"))


def is_edge(parts):
    return any(parts[-1] == name or parts[-1].endswith("_" + name) for name in EDGE)


def is_domain_layer(parts):
    domain = domain_of(parts)
    return domain is not None and parts[-1] != "__init__" and not is_edge(parts)


ALL = list(modules())
IDS = [str(rel) for rel, *_ in ALL]


@pytest.mark.parametrize("rel, parts, package, tree", ALL, ids=IDS)
def test_module_follows_the_layout_rules(rel, parts, package, tree):
    problems = []
    own = domain_of(parts) or VIEWS_OF.get(str(rel))
    for module, name in imports(tree, package):
        top = module.split(".")[0]
        if top in ADAPTERS and str(rel) not in ADAPTERS[top]:
            problems.append(f"imports {top}: only {', '.join('shop/' + p for p in sorted(ADAPTERS[top]))} may")
        target = module.split(".")[1:] + ([name] if name else [])
        if module.split(".")[0] != "shop" or not target:
            if is_domain_layer(parts) and ((module, name) in REQUEST_STATE or module in ("flask.globals",)):
                problems.append(f"domain layer reads request state: {module}.{name}")
            continue
        other = target[0] if target[0] in ORDER else None
        imports_view = other is not None and len(target) > 1 and is_view(target[:2])
        if is_view(parts) and imports_view and other != own:
            problems.append(f"view module imports another domain's views: {module}")
        if own and not is_view(parts) and parts[-1] != "forms":
            if imports_view:
                problems.append(f"domain code imports a view module: {module}.{name or ''}")
            elif other and ORDER.index(other) > ORDER.index(own):
                problems.append(f"{own} imports {other}, which is above it in the domain order")
            elif target[0] in ("web", "cli", "seeding") or (not other and target[0] != "extensions"):
                problems.append(f"domain code imports the top layer: shop.{target[0]}")
    if is_domain_layer(parts):
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and (node.value.id, node.attr) in REQUEST_STATE):
                problems.append(f"line {node.lineno}: domain layer reads {node.value.id}.{node.attr}")
    if str(rel) != UNIT_OF_WORK:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and is_session_call(node.func, "commit"):
                problems.append(f"line {node.lineno}: commits; only shop/{UNIT_OF_WORK} does (with unit_of_work())")
    assert not problems, f"shop/{rel}: " + "; ".join(problems)


def test_the_rules_see_the_whole_package():
    # Guards the test itself: if discovery broke, every rule above would pass vacuously.
    names = {str(rel) for rel, *_ in ALL}
    assert {"catalog/models.py", "catalog/services.py", "catalog/views.py", "core/images.py"} <= names
    assert any(is_domain_layer(parts) for _, parts, _, _ in ALL)


def test_every_module_of_a_domain_but_its_edge_is_held_to_the_rules():
    # The write modules without a "services" name (imports, alerts, checks…) are domain code too.
    assert is_domain_layer(["audit", "certificate_alerts"]) and is_domain_layer(["inventory", "imports"])
    assert is_domain_layer(["audit", "checks", "snapshots"])
    assert not any(is_domain_layer(parts) for parts in (["audit", "cli"], ["inventory", "counter_views"],
                                                          ["audit", "reports", "forms"], ["shop_root"]))
    commits = [node for node in ast.walk(ast.parse("db.session.commit()\nwriter.commit()\nsession.commit()"))
               if isinstance(node, ast.Call) and is_session_call(node.func, "commit")]
    assert len(commits) == 2
