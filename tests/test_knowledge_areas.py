"""The knowledge base covers what learners ask about: each area below has an entry of its own."""

from __future__ import annotations

import pytest

from bot.knowledge import KnowledgeBase
from bot.lookup import Lookup

# Asked name -> a word the answering entry's title must contain. Cloud Practitioner scope
# plus the partner programs a partner solutions architect is asked about.
AREAS = {
    "Trusted Advisor": "Trusted Advisor", "Compute Optimizer": "Compute Optimizer",
    "Cost and Usage Report": "Cost and Usage", "Billing console": "Billing",
    "Site-to-Site VPN": "Site-to-Site VPN", "Transit Gateway": "Transit Gateway",
    "VPC peering": "peering", "VPC endpoints": "endpoint", "Global Accelerator": "Global Accelerator",
    "S3 Transfer Acceleration": "Transfer Acceleration", "Outposts": "Outposts",
    "Lightsail": "Lightsail", "AWS Batch": "Batch", "WorkSpaces": "WorkSpaces",
    "IoT Core": "IoT Core", "X-Ray": "X-Ray", "Service Catalog": "Service Catalog",
    "CodeCommit": "CodeCommit", "CodePipeline": "CodePipeline", "DataSync": "DataSync",
    "MSK": "Managed Streaming for Apache Kafka", "Amazon MQ": "MQ", "SageMaker": "SageMaker",
    "Bedrock": "Bedrock", "Rekognition": "Rekognition", "Polly": "Polly",
    "Transcribe": "Transcribe", "Translate": "Translate", "Comprehend": "Comprehend",
    "Textract": "Textract", "hybrid deployment": "Hybrid", "RPO": "recovery point",
    "pilot light": "Pilot light", "warm standby": "Warm standby",
    "IAM access keys": "access key", "credential report": "credential report",
    "Support Concierge": "Concierge", "Infrastructure Event Management": "Infrastructure Event",
    "AWS Professional Services": "Professional Services",
    "Migration Acceleration Program": "Migration Acceleration Program",
    "Partner Paths": "Partner Paths", "partner tiers": "tier", "ACE program": "ACE",
    "AWS Marketplace": "Marketplace", "partner funding": "funding",
}


@pytest.fixture(scope="module")
def lookup(kb: KnowledgeBase) -> Lookup:
    return Lookup(kb.entries.values())


@pytest.mark.parametrize("name", sorted(AREAS))
def test_area_has_its_own_entry(lookup: Lookup, name: str) -> None:
    result = lookup.search(name)
    assert result.confident, f"{name}: no confident entry"
    title = result.matches[0].entry.title
    assert AREAS[name].lower() in title.lower(), f"{name} -> {title}"


def test_every_entry_says_what_it_is_for(kb: KnowledgeBase) -> None:
    without = [e.id for e in kb.entries.values() if len(e.jobs) < 2]
    assert not without, f"entries without jobs: {without}"
