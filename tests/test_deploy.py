"""The deploy kit is checked by real validators: hadolint, kubernetes-validate and cfn-lint."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is a dev dependency (pip install -e '.[dev]'); it is missing"
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=180)


def test_dockerfile_passes_hadolint() -> None:
    result = _run(_tool("hadolint"), "--no-color", "--failure-threshold", "info",
                  str(DEPLOY / "Dockerfile"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    lines = [line.split() for line in (DEPLOY / "Dockerfile").read_text().splitlines()
             if line and not line.startswith((" ", "#"))]
    stages = [words for words in lines if words[0] == "FROM"]
    assert len(stages) >= 2, "a build stage and a slim runtime stage"
    runtime = lines[lines.index(stages[-1]):]
    users = [words[1] for words in runtime if words[0] == "USER"]
    assert users and not users[-1].startswith(("root", "0")), "the runtime runs as a non-root user"
    assert any(words[0] == "HEALTHCHECK" for words in runtime)


def test_hadolint_reports_a_broken_dockerfile(tmp_path: Path) -> None:
    """The check can fail: a Dockerfile with classic mistakes is refused."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /app && pip install flask\nCMD aws-quiz serve\n")
    result = _run(_tool("hadolint"), "--no-color", "--failure-threshold", "info", str(bad))
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # :latest


def test_kubernetes_manifests_pass_strict_validation() -> None:
    files = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
    assert files
    result = _run(_tool("kubernetes-validate"), "--strict", *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout


def test_kubernetes_deployment_is_hardened_and_complete() -> None:
    docs = [d for f in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
            for d in yaml.safe_load_all(f.read_text()) if d]
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= kinds
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"readinessProbe", "livenessProbe", "resources"} <= set(container)
    assert container["resources"]["limits"]["memory"]


def test_kubernetes_validate_reports_a_broken_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
                   "spec: {replicas: two, selector: {}, template: {}}\n")
    result = _run(_tool("kubernetes-validate"), "--strict", str(bad))
    assert result.returncode != 0


def test_cloudformation_template_passes_cfn_lint() -> None:
    template = DEPLOY / "aws" / "aws-quiz.yaml"
    result = _run(_tool("cfn-lint"), str(template))
    assert result.returncode == 0, result.stdout + result.stderr


def test_cloudformation_template_builds_the_natural_aws_home() -> None:
    class Loader(yaml.SafeLoader):
        pass

    def tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
        return None

    Loader.add_multi_constructor("!", tagged)
    template = yaml.load((DEPLOY / "aws" / "aws-quiz.yaml").read_text(), Loader=Loader)
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::ECS::Service", "AWS::ECS::TaskDefinition",
            "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::RDS::DBInstance",
            "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup"} <= types
    task = next(r for r in template["Resources"].values()
                if r["Type"] == "AWS::ECS::TaskDefinition")["Properties"]
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    container = task["ContainerDefinitions"][0]
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    assert all("Value" not in s for s in container["Secrets"]), "secrets come from Secrets Manager"


def test_cfn_lint_reports_a_broken_template(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
                   "  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n"
                   "      Engine: postgress\n      DBInstanceClass: db.t4g.small\n")
    result = _run(_tool("cfn-lint"), str(bad))
    assert result.returncode & 2, result.stdout  # an error, not only a warning


@pytest.mark.parametrize("service", ["db", "bot"])
def test_compose_services_restart_and_report_health(service: str) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    spec = compose["services"][service]
    assert spec["restart"] in ("always", "unless-stopped", "on-failure")
    assert "healthcheck" in spec
