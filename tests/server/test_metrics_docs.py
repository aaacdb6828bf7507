"""docs/metrics.md lists every metric the server exposes, and the Grafana dashboard
is a dashboard that uses them all and nothing else."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.helpers.metrics import scrape

DOCS = Path(__file__).parents[2] / "docs"
_NAME = re.compile(r"printcloud_[a-z_]+")
_HISTOGRAM_SAMPLE = re.compile(r"_(bucket|sum|count)$")


async def _exposed(client: httpx.AsyncClient) -> set[str]:
    """The server's metrics, as the docs name them: counters with ``_total``,
    histograms without their samples' suffixes."""
    names = {name for name, _ in (await scrape(client)).samples if name.startswith("printcloud_")}
    return {_HISTOGRAM_SAMPLE.sub("", name) for name in names}


async def test_the_docs_list_every_metric_exposed(client: httpx.AsyncClient) -> None:
    table = [
        line
        for line in (DOCS / "metrics.md").read_text().splitlines()
        if line.startswith("| `printcloud_")
    ]
    documented = {_NAME.match(line[3:]).group(0) for line in table}  # type: ignore[union-attr]
    assert documented == await _exposed(client)


async def test_the_grafana_dashboard_uses_every_metric_and_no_other(
    client: httpx.AsyncClient,
) -> None:
    dashboard = json.loads((DOCS / "grafana-printcloud.json").read_text())
    assert dashboard["title"] == "PrintCloud"
    assert dashboard["templating"]["list"][0]["type"] == "datasource"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    used = set()
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used |= {_HISTOGRAM_SAMPLE.sub("", n) for n in _NAME.findall(target["expr"])}
    assert used == await _exposed(client)
