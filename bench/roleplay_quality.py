"""Print role-play grading quality per topic on the adversarial sets: pairs ordered, poor replies
scoring 70 or more (fooled), good replies scoring 70 or more (recognised)."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.evaluation import score_replies
from bot.knowledge.checked import load_valid
from bot.roleplay.dialogue import former_name_map
from bot.roleplay.grader import grade
from bot.roleplay.scenarios import default_scenario

ROOT = Path(__file__).resolve().parent.parent
SETS = [ROOT.parent / "shared" / "eval" / "roleplay_adversarial_dev.tsv",
        ROOT / "tests" / "data" / "roleplay_adversarial_own.tsv",
        ROOT / "tests" / "data" / "roleplay_blind.tsv"]


def main() -> None:
    kb = load_valid(Settings.from_env().knowledge_dir)
    former = former_name_map(kb)
    for path in SETS:
        if not path.exists():
            print(f"\n{path.name}: not found")
            continue
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) < 3 or line.startswith("#") or parts[0] == "topic":
                continue
            topic, label, reply = parts[0], int(parts[1]), parts[-1]
            scenario = default_scenario(kb.scenarios, topic)
            assert scenario is not None, topic
            rows.append((topic, label, grade(reply, scenario, "opening", "", former).score))
        print(f"\n{path.name}")
        print(f"{'topic':<14}{'replies':>8}{'pairs ordered':>15}{'fooled':>10}{'recognised':>12}")
        for topic, s in sorted(score_replies(rows).items(), key=lambda i: (i[0] == "all", i[0])):
            n = sum(1 for t, _, _ in rows if t == topic or topic == "all")
            print(f"{topic:<14}{n:>8}{s.ordered / max(s.pairs, 1):>15.0%}"
                  f"{s.fooled:>5}/{s.poor:<4}{s.recognised:>7}/{s.good:<4}")


if __name__ == "__main__":
    main()
