"""The promotion policy in force, as the services read it: each stage's rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.errors import BadInput


@dataclass(frozen=True)
class StagePolicy:
    name: str
    approvals: int
    approver_roles: tuple[str, ...]
    separation_of_duties: bool
    gates: tuple[str, ...]
    champion_tolerance: float
    approval_ttl_hours: float
    canary_steps: tuple[int, ...]
    may_skip: bool


@dataclass(frozen=True)
class Policy:
    stages: tuple[StagePolicy, ...]
    break_glass_roles: tuple[str, ...]
    validation: dict[str, float] = field(default_factory=dict)
    digest: str = ""
    text: str = ""
    monitoring: dict[str, object] = field(default_factory=dict)

    def stage(self, name: str) -> StagePolicy:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise BadInput(
            f"unknown stage {name!r}; the policy's stages are {', '.join(self.stage_names)}"
        )

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]
