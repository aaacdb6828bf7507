"""The layout docs/architecture.md describes, held: what `lint-imports` cannot say."""

from __future__ import annotations

import grimp


def test_nothing_inside_the_package_imports_its_root() -> None:
    # The root exports the SDK; a module that imported it would load the SDK (and
    # httpx) into the server and the agent with it.
    graph = grimp.build_graph("printcloud", exclude_type_checking_imports=True)
    assert graph.find_modules_that_directly_import("printcloud") == set()
    assert graph.find_modules_directly_imported_by("printcloud") == {"printcloud._version"}
