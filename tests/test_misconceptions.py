"""Misconceptions: false claims a learner may make in a role-play, and the detector that finds them.

The shipped items must be valid and precise (every example detected, no true sentence flagged);
the detector must catch false claims worded in ways the YAML never saw; broken YAML items are
reported with file, line, id and field; `knowledge check --json` reports them per topic.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase, load_knowledge
from bot.knowledge.schema import KnowledgeError
from bot.roleplay.misconceptions import (
    ClaimPattern,
    Finding,
    Misconception,
    expand,
    find_misconceptions,
    load_misconceptions,
)
from bot.roleplay.scenarios import TOPICS, Scenario, load_roleplay, load_scenarios
from tests.conftest import KNOWLEDGE, run_cli
from tests.test_roleplay_scenarios import scenario_yaml, write

MIN_PER_TOPIC = 12


@pytest.fixture(scope="module")
def loaded() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE)


@pytest.fixture(scope="module")
def topic_wide(loaded: KnowledgeBase) -> list[Misconception]:
    return [m for m in loaded.misconceptions.values() if not m.scenarios]


def _about_misconceptions(error: KnowledgeError) -> bool:
    return ("misconceptions" in error.file or error.field.startswith("misconceptions")
            or "misconception" in error.message)


# ---- the shipped misconceptions ----------------------------------------------------------------


def test_shipped_misconceptions_load_without_errors(loaded: KnowledgeBase) -> None:
    assert [str(e) for e in loaded.errors if _about_misconceptions(e)] == []


def test_at_least_a_dozen_topic_wide_misconceptions_per_topic(
        topic_wide: list[Misconception]) -> None:
    for topic in TOPICS:
        of_topic = [m for m in topic_wide if m.topic == topic]
        assert len(of_topic) >= MIN_PER_TOPIC, (topic, len(of_topic))
        assert all(m.file.endswith(f"misconceptions/{topic}.yaml") for m in of_topic)


def test_every_misconception_is_complete_and_names_a_real_entry(
        loaded: KnowledgeBase, topic_wide: list[Misconception]) -> None:
    for m in topic_wide:
        assert m.claim and m.fact and m.patterns, m.id
        assert m.entry in loaded.entries, (m.id, m.entry)
        assert len(m.examples) >= 3 and len(m.counterexamples) >= 2, m.id
        assert all(p.polarity in ("affirmed", "negated") and p.does for p in m.patterns), m.id


def test_every_example_is_detected_by_its_own_misconception(loaded: KnowledgeBase) -> None:
    for m in loaded.misconceptions.values():
        for example in m.examples:
            found = find_misconceptions(example, [m])
            assert [f.misconception.id for f in found] == [m.id], (m.id, example)
            assert found[0].sentence == example


def test_no_counterexample_is_detected_by_any_misconception(loaded: KnowledgeBase) -> None:
    every = list(loaded.misconceptions.values())
    for m in every:
        for sentence in m.counterexamples:
            found = find_misconceptions(sentence, every)
            assert found == [], (m.id, sentence, [f.misconception.id for f in found])


def test_each_scenario_carries_every_topic_wide_misconception_plus_its_own(
        loaded: KnowledgeBase, topic_wide: list[Misconception]) -> None:
    wide_ids = {m.id for m in topic_wide}
    assert {m.topic for m in topic_wide} == set(TOPICS)
    for scenario in loaded.scenarios.values():
        ids = [m.id for m in scenario.misconceptions]
        assert len(ids) == len(set(ids)), scenario.id
        assert wide_ids <= set(ids), scenario.id
        for m in scenario.misconceptions:
            assert not m.scenarios or scenario.id in m.scenarios, (scenario.id, m.id)


def test_scenario_loader_ignores_the_misconceptions_folder() -> None:
    """objections/*.yaml is globbed without recursion: misconception files are not scenarios."""
    scenarios, errors = load_scenarios(KNOWLEDGE)
    assert not [e for e in errors if "misconceptions/" in e.file and e.field == "scenarios"]
    assert all("/misconceptions/" not in s.file for s in scenarios.values())


# ---- true sentences are never flagged ----------------------------------------------------------


def _model_answers(scenario: Scenario) -> list[str]:
    m = scenario.model_answers
    return [m.opening, m.concern, *m.pushbacks]


def test_no_model_answer_states_a_misconception(loaded: KnowledgeBase) -> None:
    every = list(loaded.misconceptions.values())
    for scenario in loaded.scenarios.values():
        for answer in _model_answers(scenario):
            found = find_misconceptions(answer, every)
            assert found == [], (scenario.id, [(f.misconception.id, f.sentence) for f in found])


def test_hints_and_next_steps_state_no_misconception(loaded: KnowledgeBase) -> None:
    for scenario in loaded.scenarios.values():
        texts = [c.try_text for c in scenario.concepts] + [e.try_text for e in scenario.evidence]
        for text in [*texts, *scenario.next_steps]:
            assert find_misconceptions(text, scenario.misconceptions) == [], (scenario.id, text)


TRUE_SENTENCES = [
    "AWS secures the data centres, the hardware and the network, and you decide who can see your data.",
    "AWS secures the infrastructure, but you're responsible for your data.",
    "AWS is responsible for the physical security of the data centres that hold your data.",
    "You keep ownership of your content, and AWS doesn't access it without your agreement.",
    "Your team stays in control of access, with permissions you define in IAM Identity Center.",
    "We recommend encrypting data at rest and in transit with keys you control in AWS KMS.",
    "Encryption isn't optional for customer records.",
    "On EC2 your team patches the guest operating system; with RDS, AWS patches the database engine.",
    "AWS is audited against ISO 27001, and you can download the reports from AWS Artifact.",
    "Your data stays in the Region you choose.",
    "Protect the root user with MFA and use it only for the few tasks that need it.",
    "GuardDuty detects unusual activity and sends findings to your security team.",
    "Shield Standard protects every customer at no extra cost.",
    "AWS IAM Identity Center, formerly AWS Single Sign-On, gives your staff one sign-in.",
    "Network ACLs can deny specific addresses, while security groups only allow.",
    "AWS Budgets alerts you before you overspend, so there are no surprises at month end.",
    "Data coming into AWS is free, while data going out to the internet is charged per GB.",
    "Savings Plans lower the price in exchange for a one- or three-year commitment.",
    "Spot Instances can be reclaimed with two minutes' notice, so they suit batch jobs.",
    "Savings come from right-sizing and switching off what you don't use.",
    "Stopping an instance stops the compute charge, but you still pay for its EBS volumes.",
    "The Free Tier is a way to try services before you commit.",
    "Trusted Advisor recommends where to save; your team decides what to change.",
    "Basic Support is free, and Business Support is a paid plan with 24/7 access.",
    "You pay as you go, with no upfront payment for On-Demand capacity.",
    "The Pricing Calculator gives an estimate, not a quote.",
    "Compute Savings Plans also cover AWS Lambda and AWS Fargate.",
    "Prices differ between Regions, so we'll compare the ones you're considering.",
    "AWS doesn't buy your old servers, so we'll time the move to your refresh cycle.",
    "Lambda scales quickly within your account's concurrency quota, which we can raise before launch.",
    "We'll request higher service quotas a few weeks before the sale.",
    "Auto Scaling adds instances in a few minutes, so we'll schedule extra capacity before the event.",
    "Run the web tier in at least two Availability Zones behind a load balancer.",
    "S3 grows with your data, so there's nothing to provision.",
    "CloudFront serves pages and images from the edge, and checkout still runs at your origin.",
    "Scaling out adds instances, while scaling up moves to a bigger instance type.",
    "Read replicas handle the reads, and the primary still takes every write.",
    "No system is 100% available, which is why we design for failure across Availability Zones.",
    "Store session data in ElastiCache so any instance behind the load balancer can serve a shopper.",
    "A queue in front of checkout holds every order until the payment service catches up.",
    "FIFO queues keep strict order; standard queues are best-effort.",
    "Each Availability Zone is one or more separate data centres.",
    "EC2 Auto Scaling adds and removes instances rather than resizing them.",
    "A Lambda invocation can run for up to 15 minutes.",
    "DynamoDB has no servers to manage and scales with your traffic.",
    "After the sale, capacity scales back down and you stop paying for it.",
    "You don't need to worry about the hardware any more; AWS looks after it.",
    # reporting a claim, asking about it or making it conditional does not state it
    "I understand you're worried that AWS staff could read your customer data.",
    "A common myth is that AWS owns your data; in fact you keep full ownership.",
    "Is your concern that AWS might move your data to another country?",
    "Do you think AWS Budgets caps the bill?",
    "If you don't encrypt, your data is exposed if a disk is stolen.",
    "Rather than AWS owning your data, you keep it.",
    "Without MFA, the root user is a big risk.",
    "With budget alerts you can't overspend without knowing about it.",
    "AWS takes the undifferentiated heavy lifting off your team.",
    "AWS can take back Spot capacity with a two-minute warning.",
    "AWS credits from the Migration Acceleration Program offset part of the cost.",
    "We'd copy your backups to a second Region with AWS Backup, on a schedule you set.",
    "Your applications inherit the physical security controls of AWS data centres.",
    "You're charged for EBS volumes even on instances that are stopped.",
    "Stopped instances don't incur compute charges, but their EBS volumes do.",
    "Lambda has a concurrency quota per Region that we can raise before the launch.",
    "You pay for data transfer out, so we'll keep the video on CloudFront close to your customers.",
    "Multi-AZ protects you when one Availability Zone fails.",
    "CloudFront takes load off your origin by caching product pages.",
    "GuardDuty findings can trigger a Lambda function that isolates the instance.",
    "Your security team still owns the configuration, and AWS owns the physical infrastructure.",
    "Under the shared responsibility model, your team is responsible for your data and access.",
    "You don't have to manage the hypervisor or the physical hosts.",
    "Read replicas won't help with writes; for that we'd look at a bigger primary or DynamoDB.",
    "There's no upfront cost and no long-term contract for On-Demand.",
    "AWS Budgets can run a budget action that stops your test instances when spend passes a "
    "threshold.",
]


# What good replies typically say, with the words the misconceptions use.
TYPICAL_GOOD_SENTENCES = [
    "You only pay for what you use, with no upfront cost.",
    "Capacity scales back down after the peak, so you stop paying for it.",
    "AWS handles the undifferentiated heavy lifting, so your team can focus on your customers.",
    "AWS manages the infrastructure for you, and you keep control of your data.",
    "Lambda scales automatically with the number of requests.",
    "S3 scales automatically, so you never run out of storage.",
    "DynamoDB scales automatically and replicates your data across three Availability Zones.",
    "CloudFront serves your pages from edge locations around the world.",
    "Aurora automatically replicates six copies of your data across three Availability Zones.",
    "Managed services like RDS handle patching and backups for you.",
    "With Lambda, AWS manages the servers and you just write the code.",
    "You don't need to manage any servers with Lambda.",
    "Your data is encrypted at rest by default in S3.",
    "AWS secures everything underneath: the data centres, the hardware and the network.",
    "AWS has cut prices many times, and Savings Plans lower them further for steady workloads.",
    "Your data never leaves the Region you choose unless you decide to copy it.",
    "AWS doesn't use your data for anything without your agreement.",
    "Only people you authorise can read the data, and every access is logged in CloudTrail.",
    "The load balancer spreads traffic across healthy servers in several Availability Zones.",
    "Auto Scaling launches new instances when traffic grows and removes them when it falls.",
    "A queue holds every order until the payment service catches up, so nothing is lost.",
    "Standard queues scale to nearly unlimited throughput.",
    "There's no limit to how many objects you can store in S3.",
    "You can store as much data as you like in S3 and pay only for what you store.",
    "We'd request higher Lambda concurrency well before the launch.",
    "AWS Shield Standard is included at no extra cost and protects against common DDoS attacks.",
    "With AWS Budgets your finance team gets an alert before spend goes over the plan.",
    "Reserved Instances and Savings Plans need a one- or three-year commitment.",
    "Data transfer out to the internet is charged, so we'll model it in the estimate.",
    "GE Oil & Gas cut its total cost of ownership by 52 %.",
    "AWS is responsible for security of the cloud, and you're responsible for security in the "
    "cloud.",
    "The free tier lets your team try services at no cost.",
    "Every AWS account has service quotas, and we can ask for increases ahead of the sale.",
    "CloudFront caches product images so your servers handle less traffic.",
    "Your EC2 instances can run in several Availability Zones behind a load balancer.",
    "A Multi-AZ database fails over automatically to a standby in another Availability Zone.",
    "Your site stays up when one Availability Zone fails, because it runs in two.",
    "Amazon S3 is designed for eleven nines of durability.",
    "If a server fails, Auto Scaling replaces it automatically.",
    "AWS takes care of the physical security, the hardware and the hypervisor.",
]


@pytest.mark.parametrize("sentence", TRUE_SENTENCES + TYPICAL_GOOD_SENTENCES)
def test_true_sentences_sharing_the_words_are_not_flagged(
        sentence: str, topic_wide: list[Misconception]) -> None:
    assert find_misconceptions(sentence, topic_wide) == []


# ---- false claims in wordings the YAML never saw -----------------------------------------------

# Written separately from the YAML examples: each sentence states the misconception named.
FRESH_FALSE_CLAIMS: dict[str, list[str]] = {
    "aws-responsible-for-customer-data": [
        "Honestly, the moment your records land in AWS, Amazon is responsible for protecting them "
        "and deciding who gets access.",
        "Under shared responsibility, access permissions are Amazon's job, not yours.",
        "The good news is your team doesn't need to manage user access at all once you're on AWS.",
        "Under the shared responsibility model, AWS looks after your data and your user "
        "permissions, so your team is freed up.",
    ],
    "aws-handles-all-security": [
        "AWS takes care of all the security, so there's really nothing left for your people to do.",
    ],
    "aws-owns-uploaded-data": [
        "Data you upload becomes Amazon's property under the customer agreement.",
        "Amazon uses customer data to train its AI models, but it's anonymised.",
        "Amazon owns whatever you store in S3.",
        "AWS can use the information you store to improve its machine learning services.",
    ],
    "aws-staff-can-read-data": [
        "Engineers at AWS are able to look at your customer data when they troubleshoot.",
        "Amazon staff could read your encryption keys if they wanted to.",
    ],
    "encryption-optional": [
        "You won't need encryption because the infrastructure is already secured by AWS.",
        "Frankly, encrypting the database would be overkill on AWS.",
        "You won't have to worry about encryption, as it's all handled by AWS.",
    ],
    "aws-patches-guest-os": [
        "AWS patches the operating system on your EC2 instances every month.",
        "AWS takes responsibility for patching the servers you run on EC2.",
    ],
    "compliant-by-default": [
        "Once you migrate, the bank becomes PCI DSS compliant automatically.",
        "Since AWS is ISO 27001 certified, your own systems are certified too.",
    ],
    "artifact-certifies-customer-workload": [
        "AWS Artifact will certify your own application for the regulator.",
    ],
    "aws-moves-data-between-regions": [
        "AWS sometimes moves customer data to other countries to balance capacity.",
        "Amazon may move your customer data between Regions to optimise performance.",
    ],
    "root-user-for-daily-use": [
        "There's no need to turn on MFA for the root account.",
        "Your admins can just log in with the root account every day.",
    ],
    "guardduty-blocks-attacks": [
        "GuardDuty will block the attackers for you automatically.",
        "GuardDuty actively blocks malicious traffic to your applications.",
    ],
    "shield-standard-costs-extra": [
        "DDoS protection with Shield Standard is an extra cost on your bill.",
    ],
    "retired-name-aws-sso": [
        "For single sign-on we'd recommend AWS SSO, which connects to your directory.",
        "We'd use AWS Single Sign-On to give your staff one login.",
    ],
    "retired-name-cloudendure": [
        "We'd replicate your servers with CloudEndure Disaster Recovery.",
    ],
    "security-groups-deny-rules": [
        "You can add deny rules to a security group to keep out a bad IP.",
    ],
    "security-groups-stateless": [
        "Security groups are stateless, so remember to allow the replies.",
    ],
    "detection-services-block": [
        "CloudTrail prevents anyone from deleting your buckets.",
    ],
    "customer-secures-aws-facilities": [
        "Your staff will still have to guard the physical servers in AWS data centres.",
    ],
    "budgets-caps-spend": [
        "AWS Budgets puts a hard cap on your bill, so there are never surprises.",
        "With a budget in place, AWS will stop charging you once you hit your number.",
        "You can never be billed more than your budget.",
        "AWS Budgets acts as a spending cap, so the bill can never exceed what your board approves.",
        "If you go over budget, AWS simply pauses the charges until next month.",
    ],
    "data-transfer-out-free": [
        "Egress is free on AWS, so your customers can download as much as they like.",
        "Moving data out of AWS doesn't cost anything.",
        "There's no charge for data transfer out to the internet.",
    ],
    "commitment-discounts-without-commitment": [
        "Savings Plans don't require any commitment, so it's risk-free.",
        "Reserved Instances come with no long-term commitment at all.",
    ],
    "commitments-refundable": [
        "You can cancel your Reserved Instances anytime and AWS refunds the rest.",
        "Unused Savings Plans are refunded at the end of the term.",
    ],
    "spot-never-interrupted": [
        "Spot Instances are never interrupted, so they're perfect for your primary database.",
        "Spot Instances are guaranteed, so you can run the checkout on them.",
    ],
    "cloud-always-cheaper-unchanged": [
        "Moving to the cloud will automatically halve your IT bill.",
        "Lift and shift cuts your costs in half.",
        "Migrating alone will cut your infrastructure costs by half.",
    ],
    "aws-buys-back-hardware": [
        "AWS will buy your existing servers off you when you migrate.",
        "AWS will purchase your current hardware at its book value, which offsets the migration.",
    ],
    "stopped-instances-cost-nothing": [
        "Stopped instances are free, storage included.",
        "When your servers are stopped, you pay nothing at all.",
    ],
    "free-tier-covers-production": [
        "The Free Tier covers small production workloads forever.",
        "The Free Tier means a small business like yours never pays.",
    ],
    "cost-tools-cut-bill-automatically": [
        "Trusted Advisor automatically terminates idle resources to cut costs.",
        "Cost Explorer will automatically right-size your instances for you.",
    ],
    "paid-support-included": ["Every account gets Enterprise Support free."],
    "large-upfront-payment-required": ["You need to sign a multi-year contract to start using AWS."],
    "flat-fee-regardless-of-usage": ["AWS bills a fixed monthly fee regardless of how much you use."],
    "glacier-retrieval-free-instant": ["Restoring data from Glacier Deep Archive is instant and free."],
    "auto-scaling-is-a-paid-service": ["Auto Scaling carries an additional charge on top of EC2."],
    "estimate-is-binding-quote": ["The Pricing Calculator gives you a guaranteed price."],
    "savings-plans-only-cover-ec2": ["Savings Plans don't apply to Lambda."],
    "prices-identical-in-every-region": ["AWS pricing is identical across all Regions."],
    "lambda-unlimited-concurrency": [
        "Lambda has no limit on concurrent executions, so launch day is covered.",
        "AWS Lambda scales without any limits.",
        "Lambda has no concurrency limits, so it can take any number of requests.",
    ],
    "aws-raises-quotas-by-itself": [
        "AWS will automatically raise your quotas when the sale starts.",
        "There are no service quotas to worry about on AWS.",
        "AWS will lift your service quotas by itself before Black Friday.",
    ],
    "auto-scaling-instant": [
        "Auto Scaling brings new servers online instantly when traffic jumps.",
        "Auto Scaling doesn't need any setup; it works by itself.",
        "Auto Scaling reacts instantly, so there's no warm-up at all.",
    ],
    "single-az-is-highly-available": [
        "One Availability Zone is enough for high availability.",
        "A single Availability Zone gives you full high availability.",
    ],
    "s3-needs-capacity-planning": [
        "You have to provision storage for S3 before you upload.",
        "S3 buckets run out of space if you don't plan ahead.",
        "S3 needs you to buy storage capacity ahead of time.",
    ],
    "cloudfront-processes-transactions": [
        "CloudFront handles the payments at the edge, so your origin isn't involved.",
        "CloudFront can complete the whole checkout at the edge, without touching your servers.",
    ],
    "cloudfront-static-only": ["CloudFront only works for static content."],
    "vertical-scaling-unlimited": ["Vertical scaling has no limit on AWS."],
    "read-replicas-take-writes": [
        "Read replicas take the write load off your checkout database.",
        "Read replicas will spread your order writes across several databases.",
    ],
    "guaranteed-full-uptime": [
        "AWS guarantees 100% availability for your site.",
        "Your site on AWS will never go down.",
        "AWS guarantees that your site stays up 100% of the time.",
    ],
    "load-balancer-stores-sessions": [
        "The load balancer keeps each shopper's session data.",
        "Elastic Load Balancing stores shopping carts, so servers can come and go.",
    ],
    "multi-region-automatic": [
        "AWS automatically deploys your app across several Regions.",
        "Your app is automatically replicated to other Regions in case of disaster.",
    ],
    "instances-replicated-across-azs": [
        "Your EC2 instance automatically fails over to another Availability Zone.",
    ],
    "dynamodb-needs-servers": ["With DynamoDB you have to pick the instance size for your peak."],
    "cloud-capacity-cannot-scale-down": ["Once you scale up on AWS, you can't scale back down."],
    "sqs-standard-strict-order": ["Standard SQS queues guarantee exactly-once delivery."],
    "queue-loses-messages-under-load": ["SQS loses messages when your payment service is slow."],
    "zone-or-region-is-one-building": ["An Availability Zone is just one data centre."],
    "auto-scaling-resizes-instances": [
        "Auto Scaling scales your servers vertically to bigger instance types.",
    ],
    "lambda-no-time-limit": ["A Lambda function can run for days without a timeout."],
}


# A later batch, written after the one above and checked before any pattern was tuned for it.
FRESH_FALSE_CLAIMS_2: list[tuple[str, str]] = [
    ("aws-responsible-for-customer-data",
     "With AWS, protecting customer data stops being your problem and becomes Amazon's."),
    ("aws-owns-uploaded-data", "Whatever you put into AWS legally belongs to Amazon afterwards."),
    ("aws-staff-can-read-data",
     "Amazon's support team routinely browses customer databases to fix issues."),
    ("encryption-optional", "Encryption is really just a checkbox you can leave off on AWS."),
    ("aws-patches-guest-os", "AWS keeps your guest operating systems patched for you on EC2."),
    ("compliant-by-default", "Your applications automatically inherit AWS's PCI certification."),
    ("aws-moves-data-between-regions",
     "Amazon can shift your records to a US data centre whenever it needs capacity."),
    ("root-user-for-daily-use", "Honestly the root login is fine for day-to-day admin work."),
    ("guardduty-blocks-attacks", "GuardDuty stops intruders in their tracks without any setup."),
    ("shield-standard-costs-extra", "You'd be paying extra for Shield Standard's DDoS protection."),
    ("budgets-caps-spend", "AWS Budgets will shut everything down so you can't overspend."),
    ("data-transfer-out-free", "Outbound data is free of charge on AWS."),
    ("commitment-discounts-without-commitment",
     "You don't have to commit to anything to get Savings Plan pricing."),
    ("commitments-refundable",
     "AWS will give you your money back for any Reserved Instances you don't use."),
    ("spot-never-interrupted", "AWS never takes Spot capacity back once you have it."),
    ("cloud-always-cheaper-unchanged",
     "The cloud is cheaper in every case, even if you don't change a thing."),
    ("aws-buys-back-hardware", "AWS will take your old servers and credit you their book value."),
    ("stopped-instances-cost-nothing",
     "You're not charged for EBS volumes on instances that are stopped."),
    ("paid-support-included", "Enterprise Support comes free with your account."),
    ("flat-fee-regardless-of-usage",
     "AWS charges the same flat fee every month no matter how much you use."),
    ("lambda-unlimited-concurrency", "Lambda concurrency is unlimited."),
    ("aws-raises-quotas-by-itself",
     "AWS raises your service limits automatically, so there's nothing to request."),
    ("auto-scaling-instant", "Auto Scaling spins up servers in milliseconds."),
    ("single-az-is-highly-available", "Running in one AZ already gives you high availability."),
    ("cloudfront-processes-transactions",
     "CloudFront processes orders at the edge, so your servers aren't needed at checkout."),
    ("read-replicas-take-writes", "Read replicas let you scale writes horizontally."),
    ("guaranteed-full-uptime", "AWS promises your site will never have downtime."),
    ("load-balancer-stores-sessions",
     "The load balancer holds each customer's session, so your servers can be stateless."),
    ("multi-region-automatic", "AWS automatically copies your whole application to a second Region."),
    ("zone-or-region-is-one-building", "Each Availability Zone is a single building."),
    ("aws-liable-for-breaches", "Amazon will compensate you for any data breach."),
    ("customer-cannot-control-keys", "You can't bring your own keys to AWS."),
    ("aws-prices-keep-rising", "AWS raises its prices every year."),
    ("aws-pays-for-whole-migration", "The migration will cost you nothing, because AWS funds it all."),
    ("cloud-removes-all-it-staff", "After the move you won't need an IT team."),
    ("savings-plans-lock-instance-type", "Savings Plans lock you into one instance type."),
    ("no-need-to-load-test", "On AWS you don't need to load test before the sale."),
    ("ec2-auto-scaling-scales-database", "EC2 Auto Scaling will scale your database too."),
    ("lambda-no-cold-starts", "Lambda functions have no cold starts."),
]


# A third batch, for the misconceptions added later (security groups, KMS, CloudTrail, access keys,
# penetration tests, Shield, S3 encryption, IAM scope, deleted data; Spot bidding, Reserved
# Instance scope, stopped RDS, Basic Support, public IPv4, CloudWatch, S3 requests, per-second
# billing, snapshots, GuardDuty; Multi-AZ standby, load balancers, CloudFront origins, Regions,
# VPC peering, SQS retention, S3 redundancy and consistency, edge locations, EC2-Classic). Written
# before they were run against the detector.
FRESH_FALSE_CLAIMS_3: list[tuple[str, str]] = [
    ("security-group-open-by-default",
     "A freshly created security group accepts any incoming connection by default."),
    ("kms-keys-exportable",
     "You can always download your KMS keys in plaintext to keep a copy on premises."),
    ("cloudtrail-keeps-history-forever",
     "CloudTrail stores every event forever at no cost, so your auditors can go back as far as "
     "they like."),
    ("access-keys-in-code-are-fine",
     "Keeping access keys in the source code is standard practice for apps on EC2."),
    ("pentest-needs-aws-approval",
     "Pen testing your EC2 instances requires prior written approval from AWS."),
    ("shield-standard-stops-every-ddos",
     "Shield Standard will protect you from every type of DDoS attack, including layer 7 floods."),
    ("s3-unencrypted-by-default", "By default, Amazon S3 saves objects in plain text."),
    ("iam-is-regional", "IAM roles only exist in the Region where you create them."),
    ("aws-restores-deleted-data", "AWS Support can get back any deleted files for you."),
    ("spot-priced-by-bidding",
     "With Spot you bid for spare capacity, and if someone bids more you lose it."),
    ("standard-ris-apply-anywhere", "A Standard RI covers any instance family you choose to run."),
    ("stopped-rds-stays-stopped",
     "Once stopped, an RDS instance stays stopped indefinitely and stops costing you anything."),
    ("basic-support-technical-cases",
     "The Basic plan comes with access to support engineers around the clock."),
    ("elastic-ip-free", "There's no charge for an Elastic IP as long as it's attached to an instance."),
    ("cloudwatch-is-free", "Sending all your application logs to CloudWatch won't cost you anything."),
    ("s3-requests-are-free", "Every GET request to S3 is free; only storage is billed."),
    ("ec2-billed-by-full-hour", "EC2 charges per full hour, even for a five-minute test."),
    ("ebs-snapshots-free", "Taking EBS snapshots is free, so snapshot every hour."),
    ("guardduty-is-free",
     "GuardDuty threat detection is included at no extra cost with your account."),
    ("multi-az-standby-serves-reads",
     "The RDS standby handles read queries, so Multi-AZ gives you read scaling for free."),
    ("load-balancer-single-point-of-failure",
     "An ALB is just one more single point of failure in your architecture."),
    ("cloudfront-s3-origins-only", "CloudFront only supports S3 buckets as origins."),
    ("region-has-one-az", "Every AWS Region is basically one Availability Zone."),
    ("vpc-peering-transitive",
     "Peering connections are transitive, so one central VPC can link all the others."),
    ("sqs-keeps-messages-forever",
     "Unread messages sit in SQS indefinitely until a worker gets to them."),
    ("s3-data-in-one-place", "S3 Standard holds your files in one Availability Zone."),
    ("s3-eventually-consistent",
     "Right after an upload, S3 may still return the old version of the object."),
    ("edge-locations-run-instances",
     "You can host your web servers in edge locations to get them closer to users."),
    ("retired-name-ec2-classic", "For a quick test, launch the instance in EC2-Classic."),
]

# True sentences on the same subjects, written with the batch above: none may be flagged.
FRESH_TRUE_SENTENCES_3 = [
    "A new security group blocks all inbound traffic until you add allow rules.",
    "KMS key material never leaves the service unencrypted; only public keys of asymmetric keys "
    "can be downloaded.",
    "CloudTrail Event history covers the last 90 days; a trail to S3 keeps logs for longer.",
    "Give your application an IAM role instead of storing access keys in the code.",
    "You can pen test your own EC2 instances without asking AWS, but DoS testing is not allowed.",
    "Shield Standard covers common network and transport layer attacks; for layer 7 floods add "
    "AWS WAF.",
    "S3 has encrypted every new object by default since January 2023.",
    "IAM is global, so a role you create works in every Region.",
    "Once data is deleted without a backup, AWS can't bring it back, so turn on versioning.",
    "Since 2017 there's no bidding for Spot; you pay the current Spot price.",
    "A Standard RI is tied to one instance family and one Region.",
    "A stopped RDS instance starts again automatically after seven days.",
    "Technical support cases need a paid support plan; Basic covers billing and account help.",
    "Every public IPv4 address, including an attached Elastic IP, is billed by the hour.",
    "CloudWatch log ingestion and storage are charged beyond the free tier.",
    "S3 charges for requests as well as for storage.",
    "Linux instances are billed per second after the first minute.",
    "EBS snapshots are billed by the GB-month of data they hold.",
    "GuardDuty is free for the first 30 days, then billed by usage.",
    "The Multi-AZ standby doesn't serve reads; add read replicas for that.",
    "Elastic Load Balancing runs across several Availability Zones and scales with traffic, so it "
    "isn't a single point of failure.",
    "CloudFront can use an Application Load Balancer or your own web servers as the origin.",
    "Each Region has at least three Availability Zones in most cases.",
    "VPC peering isn't transitive, so use a Transit Gateway to connect many VPCs.",
    "SQS deletes messages that are older than the retention period, at most 14 days.",
    "S3 Standard copies your data across at least three Availability Zones.",
    "S3 is strongly consistent: a read after a write returns the new object.",
    "Edge locations run CloudFront and Route 53; for your own servers near users, use Local Zones.",
    "EC2-Classic has been retired, so every instance runs in a VPC.",
]


@pytest.mark.parametrize("sentence", FRESH_TRUE_SENTENCES_3)
def test_fresh_true_sentences_on_the_later_subjects_are_not_flagged(
        sentence: str, topic_wide: list[Misconception]) -> None:
    found = find_misconceptions(sentence, topic_wide)
    assert found == [], (sentence, [f.misconception.id for f in found])


def test_every_later_misconception_has_a_fresh_false_claim(
        topic_wide: list[Misconception]) -> None:
    ids = {m.id for m in topic_wide}
    assert {mid for mid, _ in FRESH_FALSE_CLAIMS_3} <= ids
    assert len({mid for mid, _ in FRESH_FALSE_CLAIMS_3}) == len(FRESH_FALSE_CLAIMS_3)


@pytest.mark.parametrize("expected,sentence", [
    (mid, sentence) for mid, sentences in FRESH_FALSE_CLAIMS.items() for sentence in sentences]
    + FRESH_FALSE_CLAIMS_2 + FRESH_FALSE_CLAIMS_3)
def test_fresh_false_claims_are_detected(expected: str, sentence: str,
                                         topic_wide: list[Misconception]) -> None:
    found = find_misconceptions(sentence, topic_wide)
    assert expected in [f.misconception.id for f in found], (
        sentence, [f.misconception.id for f in found])


def test_a_false_claim_inside_a_fluent_reply_is_found_and_quoted(
        topic_wide: list[Misconception]) -> None:
    reply = ("I understand; your customers’ trust is everything. What worries you most? "
             "Under the shared responsibility model AWS is responsible for your data and your "
             "access settings, so encryption is optional. Could we meet on Thursday?")
    found = find_misconceptions(reply, topic_wide)
    ids = [f.misconception.id for f in found]
    assert ids[:1] == ["aws-responsible-for-customer-data"] and "encryption-optional" in ids
    assert {f.sentence for f in found} == {
        "Under the shared responsibility model AWS is responsible for your data and your access "
        "settings, so encryption is optional."}
    assert all(isinstance(f, Finding) for f in found)


# ---- the detector's rules ----------------------------------------------------------------------


def _one(**slots: object) -> Misconception:
    pattern = ClaimPattern(**{"who": (), "what": (), "polarity": "affirmed", **slots})  # type: ignore[arg-type]
    return Misconception("owns-data", "security", "AWS owns your data.", "You do.",
                         "shared-responsibility-model", (pattern,), (), ())


def test_slots_must_match_in_the_same_clause_in_any_order() -> None:
    m = _one(who=("AWS",), does=("own[s|ed]",), what=("data",))
    assert find_misconceptions("AWS owns your data.", [m])
    assert find_misconceptions("Your data is owned by AWS.", [m])
    assert not find_misconceptions("AWS runs the servers, but you own your data.", [m])
    assert not find_misconceptions("AWS runs the servers; you own your data.", [m])
    assert not find_misconceptions("AWS runs the servers, and you own your data.", [m])
    assert not find_misconceptions("AWS runs the servers while you own your data.", [m])


def test_polarity_follows_the_negation_around_the_predicate() -> None:
    affirmed = _one(who=("AWS",), does=("own[s|ed]",), what=("data",))
    assert not find_misconceptions("AWS doesn't own your data.", [affirmed])
    assert not find_misconceptions("AWS never owns customer data.", [affirmed])
    assert not find_misconceptions("Your data is owned by you, not by AWS.", [affirmed])
    negated = _one(does=("need[s] encryption", "encryption"), polarity="negated")
    assert find_misconceptions("You don't need encryption.", [negated])
    assert find_misconceptions("Encryption isn't needed on AWS.", [negated])
    assert find_misconceptions("Encryption is optional.", [negated])
    assert not find_misconceptions("Encryption isn't optional.", [negated])
    assert not find_misconceptions("You need encryption.", [negated])


def test_questions_reported_claims_and_conditions_are_not_claims() -> None:
    m = _one(who=("AWS",), does=("own[s|ed]",), what=("data",))
    assert not find_misconceptions("Does AWS own your data?", [m])
    assert not find_misconceptions("Some people think AWS owns your data.", [m])
    assert not find_misconceptions("You may have heard that AWS owns your data.", [m])
    assert not find_misconceptions("If AWS owned your data, that would be a problem.", [m])
    assert find_misconceptions("Did you know AWS owns your data?", [m])


def test_unless_phrases_and_exact_words() -> None:
    m = _one(does=("free",), who=("data transfer",), unless=("into",))
    assert find_misconceptions("Data transfer is free.", [m])
    assert not find_misconceptions("Data transfer into AWS is free.", [m])
    exact = _one(who=("AWS",), does=("=secures",), what=("your data",))
    assert find_misconceptions("AWS secures your data.", [exact])
    assert not find_misconceptions("AWS security covers your data.", [exact])


def test_phrase_expansion() -> None:
    assert expand("all [of] (your|the) security") == [
        "all of your security", "all of the security", "all your security", "all the security"]
    assert expand("patch[es|ed]") == ["patches", "patched", "patch"]
    assert expand("copy|copies") == ["copy", "copies"]


def test_the_sentence_is_quoted_as_written() -> None:
    m = _one(who=("AWS",), does=("own[s]",), what=("data",))
    reply = "Fair point.  AWS’s lawyers say AWS owns your data!  Shall we talk?"
    [finding] = find_misconceptions(reply, [m])
    assert finding.sentence == "AWS’s lawyers say AWS owns your data!"


def test_detection_is_fast(topic_wide: list[Misconception], loaded: KnowledgeBase) -> None:
    """Grading must stay well under 20 ms per reply: the detector takes a small share of it."""
    sentences = [s for m in loaded.misconceptions.values()
                 for s in (*m.examples, *m.counterexamples)]
    for scenario in loaded.scenarios.values():
        sentences += _model_answers(scenario)
    sentences = (sentences * 2)[:500]
    find_misconceptions(sentences[0], topic_wide)  # index built once per sequence
    times = []
    for sentence in sentences:
        start = time.process_time()
        find_misconceptions(sentence, topic_wide)
        times.append(time.process_time() - start)
    times.sort()
    assert sum(times) / len(times) < 0.004
    assert times[int(len(times) * 0.99) - 1] < 0.015


# ---- broken items are reported precisely -------------------------------------------------------

GOOD_ITEM = """\
  - id: {id}
    topic: {topic}
    claim: AWS owns the data you upload.
    fact: You keep ownership of your data.
    entry: {entry}
    patterns:
      - who: [AWS, Amazon]
        does: ["own[s|ed]", "belong[s] to"]
        what: [data, content]
        polarity: {polarity}
    examples:
      - AWS owns your data.
      - Your content belongs to Amazon.
      - Amazon owns the data you upload.
    counterexamples:
      - You own your data.
      - AWS doesn't own your content.
"""


def _item(id: str = "owns-data", topic: str = "security", entry: str = "s3",
          polarity: str = "affirmed") -> str:
    return GOOD_ITEM.format(id=id, topic=topic, entry=entry, polarity=polarity)


def _tree(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "objections" / "misconceptions"
    folder.mkdir(parents=True)
    for topic, body in files.items():
        (folder / f"{topic}.yaml").write_text(body, encoding="utf-8")
    return tmp_path


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_a_valid_item_loads(tmp_path: Path) -> None:
    body = "misconceptions:\n" + _item()
    found, errors = load_misconceptions(_tree(tmp_path, security=body), {"s3"})
    assert errors == []
    [m] = found
    assert (m.id, m.topic, m.entry, m.scenarios) == ("owns-data", "security", "s3", ())
    assert m.file.endswith("misconceptions/security.yaml") and m.line == 2
    assert m.patterns[0].who == ("AWS", "Amazon") and m.patterns[0].polarity == "affirmed"


@pytest.mark.parametrize("case,edit,field,needle,message", [
    ("unknown field", lambda b: b.replace("    claim:", "    colour: blue\n    claim:"),
     "colour", "colour: blue", "unknown field"),
    ("missing field", lambda b: b.replace("    fact: You keep ownership of your data.\n", ""),
     "fact", "- id: owns-data", "required"),
    ("unknown entry", lambda b: b.replace("entry: s3", "entry: ghost"),
     "entry", "entry: ghost", "unknown entry id 'ghost'"),
    ("bad polarity", lambda b: b.replace("polarity: affirmed", "polarity: maybe"),
     "patterns[0].polarity", "polarity: maybe", "affirmed, negated"),
    ("unknown pattern field", lambda b: b.replace("        polarity:", "        why: x\n        polarity:"),
     "patterns[0].why", "why: x", "unknown field"),
    ("missing does", lambda b: b.replace('        does: ["own[s|ed]", "belong[s] to"]\n', ""),
     "patterns[0].does", "- who: [AWS, Amazon]", "required"),
    ("too few examples", lambda b: b.replace("      - Amazon owns the data you upload.\n", ""),
     "examples", "examples:", "at least 3"),
    ("example not detected", lambda b: b.replace("Amazon owns the data you upload.",
                                                 "Amazon keeps the data you upload."),
     "examples", "examples:", "not detected"),
    ("counterexample detected", lambda b: b.replace("You own your data.", "AWS owns your data now."),
     "counterexamples", "counterexamples:", "counterexample detected"),
    ("topic of another file", lambda b: b.replace("topic: security", "topic: cost"),
     "topic", "topic: cost", "security.yaml"),
])
def test_broken_items_name_file_line_id_and_field(tmp_path: Path, case: str, edit: object,
                                                  field: str, needle: str, message: str) -> None:
    body = edit("misconceptions:\n" + _item())  # type: ignore[operator]
    _, errors = load_misconceptions(_tree(tmp_path, security=body), {"s3"})
    assert len(errors) == 1, (case, [str(e) for e in errors])
    [error] = errors
    assert error.file.endswith("misconceptions/security.yaml"), case
    assert (error.item_id, error.field) == ("owns-data", field), (case, str(error))
    assert error.line == _line(body, needle), (case, str(error))
    assert message in error.message, (case, error.message)


def test_duplicate_ids_across_topic_files(tmp_path: Path) -> None:
    root = _tree(tmp_path, cost="misconceptions:\n" + _item(topic="cost"),
                 security="misconceptions:\n" + _item())
    _, errors = load_misconceptions(root, {"s3"})
    [dup] = [e for e in errors if e.field == "id"]
    assert dup.file.endswith("security.yaml") and dup.line == 2 and dup.item_id == "owns-data"
    assert "duplicate" in dup.message and "cost.yaml:2" in dup.message


def test_yaml_syntax_error_and_wrong_shape(tmp_path: Path) -> None:
    root = _tree(tmp_path, security="misconceptions:\n  - id: [unclosed\n",
                 cost="entries: []\n")
    _, errors = load_misconceptions(root, {"s3"})
    by_file = {Path(e.file).name: e for e in errors}
    assert "invalid YAML" in by_file["security.yaml"].message
    assert by_file["cost.yaml"].field == "misconceptions"


def test_a_scenario_may_carry_its_own_misconceptions(tmp_path: Path) -> None:
    own = ("    misconceptions:\n"
           + "\n".join("    " + line if line else line
                       for line in _item(id="scenario-claim").replace("    topic: security\n", "")
                       .splitlines()) + "\n")
    root = write(
        tmp_path,
        security="scenarios:\n" + scenario_yaml() + own,
        cost="scenarios:\n" + scenario_yaml("cost-one", "cost"),
        scalability="scenarios:\n" + scenario_yaml("scale-one", "scalability"),
    )
    (root / "objections" / "misconceptions").mkdir()
    (root / "objections" / "misconceptions" / "cost.yaml").write_text(
        "misconceptions:\n" + _item(id="wide-claim", topic="cost"), encoding="utf-8")
    scenarios, misconceptions, errors = load_roleplay(root, {"s3"})
    assert errors == []
    assert misconceptions["scenario-claim"].topic == "security"
    assert misconceptions["scenario-claim"].scenarios == ("sec-one",)
    assert [m.id for m in scenarios["sec-one"].misconceptions] == ["wide-claim", "scenario-claim"]
    assert [m.id for m in scenarios["cost-one"].misconceptions] == ["wide-claim"]

    broken = own.replace("entry: s3", "entry: ghost")
    root2 = write(
        tmp_path / "broken",
        security="scenarios:\n" + scenario_yaml() + broken,
        cost="scenarios:\n" + scenario_yaml("cost-one", "cost"),
        scalability="scenarios:\n" + scenario_yaml("scale-one", "scalability"),
    )
    _, _, errors = load_roleplay(root2, {"s3"})
    [error] = errors
    assert error.file.endswith("objections/security.yaml")
    assert (error.item_id, error.field) == ("sec-one", "misconceptions[scenario-claim].entry")


def test_a_model_answer_that_states_a_misconception_is_an_error(tmp_path: Path) -> None:
    body = "scenarios:\n" + scenario_yaml()
    answer = body.split("model_answers:")[1].split("opening:")[1].splitlines()[0].strip()
    body = body.replace(answer, "AWS owns your data. " + answer, 1)
    root = write(tmp_path, security=body,
                 cost="scenarios:\n" + scenario_yaml("cost-one", "cost"),
                 scalability="scenarios:\n" + scenario_yaml("scale-one", "scalability"))
    (root / "objections" / "misconceptions").mkdir()
    (root / "objections" / "misconceptions" / "security.yaml").write_text(
        "misconceptions:\n" + _item(), encoding="utf-8")
    _, _, errors = load_roleplay(root, {"s3"})
    [error] = errors
    assert (error.item_id, error.field) == ("sec-one", "model_answers.opening")
    assert "owns-data" in error.message and "AWS owns your data." in error.message


# ---- the knowledge-check report ----------------------------------------------------------------


def test_knowledge_check_json_reports_scenarios_and_misconceptions_per_topic() -> None:
    result = run_cli("knowledge", "check", "--json", env={"AWS_QUIZ_KNOWLEDGE": str(KNOWLEDGE)})
    report = json.loads(result.stdout)
    for key in ("entries", "questions", "scenarios", "sections", "uncovered", "errors"):
        assert key in report
    assert report["scenarios_per_topic"] == report["scenarios"]
    assert set(report["misconceptions_per_topic"]) == set(TOPICS)
    assert all(n >= MIN_PER_TOPIC for n in report["misconceptions_per_topic"].values())
    assert set(report["scenario_misconceptions_per_topic"]) == set(TOPICS)

    text = run_cli("knowledge", "check", env={"AWS_QUIZ_KNOWLEDGE": str(KNOWLEDGE)})
    assert "misconceptions" in text.stdout


def test_results_survive_a_reset_of_the_phrase_index(monkeypatch: pytest.MonkeyPatch,
                                                     topic_wide: list[Misconception]) -> None:
    import bot.roleplay.misconceptions as module

    sentence = "AWS Budgets caps your bill, and Lambda has no concurrency limit."
    sequence = tuple(topic_wide)
    before = [f.misconception.id for f in find_misconceptions(sentence, sequence)]
    monkeypatch.setattr(module, "_CACHE_LIMIT", 3)
    for m in topic_wide[:10]:  # registering more than the limit resets the index
        find_misconceptions(sentence, [m])
    assert [f.misconception.id for f in find_misconceptions(sentence, sequence)] == before
    assert {"budgets-caps-spend", "lambda-unlimited-concurrency"} <= set(before)
