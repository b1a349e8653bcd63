"""The layout rules of docs (architecture C4), checked on the source with `ast` so they cannot drift."""
import ast
from pathlib import Path

import pytest

SHOP = Path(__file__).resolve().parent.parent / "shop"
# Bottom to top: a domain's non-view modules may import only core, extensions and domains to their left.
ORDER = ["core", "accounts", "producers", "catalog", "certification", "sales_points", "traceability",
         "inventory", "orders", "payments", "checkout", "recalls", "books", "search", "audit", "admin"]
DOMAIN_LAYER = {"models", "services", "queries"}
ADAPTERS = {"whoosh": "search/index.py", "PIL": "core/images.py", "stripe": "payments/stripe_gateway.py",
            "fpdf": "core/pdf.py"}
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


def is_domain_layer(parts):
    domain = domain_of(parts)
    return domain == "core" or (domain is not None and (set(parts[1:]) & DOMAIN_LAYER))


ALL = list(modules())
IDS = [str(rel) for rel, *_ in ALL]


@pytest.mark.parametrize("rel, parts, package, tree", ALL, ids=IDS)
def test_module_follows_the_layout_rules(rel, parts, package, tree):
    problems = []
    own = domain_of(parts)
    for module, name in imports(tree, package):
        top = module.split(".")[0]
        if top in ADAPTERS and str(rel) != ADAPTERS[top]:
            problems.append(f"imports {top}: only shop/{ADAPTERS[top]} may")
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
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
                problems.append(f"line {node.lineno}: calls .commit(); services flush, the caller commits")
    assert not problems, f"shop/{rel}: " + "; ".join(problems)


def test_the_rules_see_the_whole_package():
    # Guards the test itself: if discovery broke, every rule above would pass vacuously.
    names = {str(rel) for rel, *_ in ALL}
    assert {"catalog/models.py", "catalog/services.py", "catalog/views.py", "core/images.py"} <= names
    assert any(is_domain_layer(parts) for _, parts, _, _ in ALL)
