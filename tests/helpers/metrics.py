"""``/metrics`` scraped and parsed by prometheus-client's own parser, as Prometheus reads it.

The counters of an in-process server belong to the whole test process: a test compares
two scrapes (``Scrape.delta``), never a value with what other tests left.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[sample.name, frozenset(sample.labels.items())] = sample.value
        return cls(samples)

    def value(self, name: str, **labels: str) -> float:
        """A sample's value; 0 for one not exposed."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def has(self, name: str, **labels: str) -> bool:
        return (name, frozenset(labels.items())) in self.samples

    def delta(self, before: Scrape, name: str, **labels: str) -> float:
        """How much a sample moved since ``before``."""
        return self.value(name, **labels) - before.value(name, **labels)


async def scrape(http: httpx.AsyncClient, token: str | None = None) -> Scrape:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape.parse(response.text)
