"""Self-checks and reflection prompts for lesson notebooks.

A self-check shows a question and its options; the feedback (right or wrong, and why) appears
only after the student picks an answer and presses *Check*. Nothing is graded or stored: it is
practice, so the key sitting in the cell's source is acceptable (graded items live in quizzes).

    from celerylab_course import selfcheck
    selfcheck.choice(
        "Which process runs a task's body?",
        ["The caller", "The worker", "The broker"],
        answer=1,
        why="The broker only stores the message; a worker process executes it.",
    )

    selfcheck.reflect("f02", "What surprised you about running tasks on your own worker?")

Outside a kernel with widgets (tests, nbconvert), `SelfCheck.check(i)` returns the feedback text
that the widget would show, so lessons can be tested for what a student sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REFLECTIONS_DIR = Path.home() / "reflections"


@dataclass(frozen=True)
class SelfCheck:
    question: str
    options: tuple[str, ...]
    answer: int
    why: str

    def __post_init__(self) -> None:
        if len(self.options) < 2:
            raise ValueError("a self-check needs at least two options")
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"answer {self.answer} is not an option index")

    def check(self, picked: int | None) -> str:
        """The feedback for option index `picked` (None: nothing picked yet)."""
        if picked is None:
            return "Pick an option first."
        if picked == self.answer:
            return f"Right. {self.why}"
        return f"Not quite: the answer is “{self.options[self.answer]}”. {self.why}"

    def widget(self):
        import ipywidgets as w

        buttons = w.RadioButtons(options=list(self.options), value=None, layout={"width": "auto"})
        button = w.Button(description="Check", button_style="primary")
        feedback = w.HTML()

        def on_click(_):
            picked = self.options.index(buttons.value) if buttons.value is not None else None
            feedback.value = f"<p>{_escape(self.check(picked))}</p>"

        button.on_click(on_click)
        return w.VBox([w.HTML(f"<b>{_escape(self.question)}</b>"), buttons, button, feedback])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        try:
            display(self.widget())
        except ImportError:  # no ipywidgets: show the question; the answer stays hidden
            print(self.question)
            for n, option in enumerate(self.options):
                print(f"  {n}. {option}")


def choice(question: str, options: list[str], answer: int, why: str) -> SelfCheck:
    """A multiple-choice self-check; display it as the cell's last expression."""
    return SelfCheck(question, tuple(options), answer, why)


@dataclass(frozen=True)
class Reflection:
    module: str
    prompt: str

    @property
    def path(self) -> Path:
        return REFLECTIONS_DIR / f"{self.module}.md"

    def save(self, text: str) -> Path:
        """Append the student's reflection to ~/reflections/<module>.md (their own notes)."""
        if not text.strip():
            raise ValueError("the reflection is empty")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as notes:
            notes.write(f"## {self.prompt}\n\n{text.strip()}\n\n")
        return self.path

    def _ipython_display_(self) -> None:
        from IPython.display import display

        try:
            import ipywidgets as w
        except ImportError:
            print(f"{self.prompt}\n(write your answer in {self.path})")
            return
        area = w.Textarea(placeholder="Your thoughts…", layout={"width": "100%", "height": "6em"})
        button = w.Button(description="Save to my notes")
        status = w.HTML()

        def on_click(_):
            try:
                status.value = f"Saved to {_escape(str(self.save(area.value)))}"
            except ValueError as error:
                status.value = _escape(str(error))

        button.on_click(on_click)
        display(w.VBox([w.HTML(f"<b>{_escape(self.prompt)}</b>"), area, button, status]))


def reflect(module: str, prompt: str) -> Reflection:
    """A reflection prompt whose answer is saved in the student's own ~/reflections/."""
    return Reflection(module, prompt)


def _escape(text: str) -> str:
    import html

    return html.escape(text)
