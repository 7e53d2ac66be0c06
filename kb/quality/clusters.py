"""Unanswered questions grouped by meaning (issue 16): "12 people asked about the parking
policy" is one line, not twelve."""

from __future__ import annotations

from dataclasses import dataclass, field

# Cosine similarity of MiniLM question embeddings at which two questions ask the same thing.
# On 11 unanswerable questions in 6 topics (4 on visitor parking, 2 each on banana bread, the
# 1998 world cup and pets at work, 1 odd one): 0.55 grouped all four parking questions and
# merged no two topics; 0.6 left "the parking policy for guests" alone; 0.5 gave the same
# groups as 0.55, with less margin against merging topics.
SAME_QUESTION = 0.55


@dataclass
class Cluster:
    """Similar unanswered questions: the first asked names the group."""

    question: str
    questions: list[str] = field(default_factory=list)
    answer_ids: list[str] = field(default_factory=list)
    users: set[str] = field(default_factory=set)

    def line(self) -> str:
        """'3 people asked about: Where do visitors park? (4 times)'."""
        people = f"{len(self.users)} {'person' if len(self.users) == 1 else 'people'}"
        n = len(self.questions)
        times = "once" if n == 1 else f"{n} times"
        return f"{people} asked about: {self.question} ({times})"


def cluster(
    items: list[tuple[str, str, str]], vectors: list[list[float]], threshold: float = SAME_QUESTION
) -> list[Cluster]:
    """Group (answer id, user, question) items whose unit vectors are within `threshold` of a
    group's first question; largest groups first."""
    groups: list[tuple[list[float], Cluster]] = []
    for (answer_id, user, question), vec in zip(items, vectors, strict=True):
        best = max(groups, key=lambda g: _dot(g[0], vec), default=None)
        if best is None or _dot(best[0], vec) < threshold:
            best = (vec, Cluster(question))
            groups.append(best)
        best[1].questions.append(question)
        best[1].answer_ids.append(answer_id)
        best[1].users.add(user)
    return sorted((g[1] for g in groups), key=lambda c: (-len(c.questions), c.question))


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))
