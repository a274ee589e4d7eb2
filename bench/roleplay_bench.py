"""Time grading one role-play reply (p50/p99) over the development replies, every topic."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import load_checked  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.roleplay.dialogue import former_name_map  # noqa: E402
from bot.roleplay.grader import grade  # noqa: E402
from bot.roleplay.scenarios import default_scenario  # noqa: E402


def main(rounds: int = 50) -> None:
    kb = load_checked(Settings.from_env())
    former = former_name_map(kb)
    replies: list[tuple[str, str]] = []
    for name in ("roleplay_dev.tsv", "roleplay_extra.tsv"):
        for line in (ROOT / "tests" / "data" / name).read_text().splitlines():
            if line and not line.startswith("#"):
                topic, _, reply = line.split("\t")
                replies.append((topic, reply))
    times: list[float] = []
    for round_ in range(rounds):
        for topic, reply in replies:
            scenario = default_scenario(kb.scenarios, topic)
            assert scenario is not None
            started = time.perf_counter()
            grade(f"{reply} (take {round_})", scenario, "opening", "", former)  # never cached
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"{'grading one reply':<30}{'replies':>9}{'p50':>9}{'p99':>9}{'max':>9}{'target p99':>12}")
    print(f"{'(default scenario, opening)':<30}{len(times):>9}{statistics.median(times):>7.2f}ms"
          f"{times[int(len(times) * 0.99)]:>7.2f}ms{times[-1]:>7.2f}ms{'< 20 ms':>12}")


if __name__ == "__main__":
    main()
