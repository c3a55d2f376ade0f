"""Interview schedules: the model, loading from YAML, and lint with FILE:LINE positions.

A schedule is a human-edited YAML file (see schedules/ccu-staff-commencement.yaml for the format,
documented in its comments). Loading goes through PyYAML's node API (`yaml.compose`) rather than
`yaml.safe_load`, because nodes keep their line numbers: every problem points at the line to fix.

`check_schedule` never raises: unreadable, binary, empty or malformed files all come back as
`Problem`s. `load_schedule` raises `ScheduleError` listing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fieldkit.core.folding import fold_text
from fieldkit.core.guard import TermMatcher
from fieldkit.core.models import GuardedTerm as GuardedTerm  # re-exported for older imports
from fieldkit.errors import ScheduleError
from fieldkit.names import suggest as _suggest

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"

_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")

TOP_KEYS = ("id", "title", "version", "target_minutes", "instructions", "guarded_terms", "topics")
TERM_KEYS = ("term", "forms", "follow_up")
FOLLOW_UP_KEYS = ("id", "text")
TOPIC_KEYS = ("id", "title", "target_minutes", "instructions", "questions")
QUESTION_KEYS = ("id", "text", "instructions", "probes", "requires")
PROBE_KEYS = ("id", "text", "requires")


@dataclass(frozen=True)
class Probe:
    id: str
    text: str
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    probes: tuple[Probe, ...] = ()
    requires: tuple[str, ...] = ()
    instructions: str = ""


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    questions: tuple[Question, ...]
    instructions: str = ""
    target_minutes: float | None = None


@dataclass(frozen=True)
class Schedule:
    id: str
    title: str
    topics: tuple[Topic, ...]
    guarded_terms: tuple[GuardedTerm, ...] = ()
    target_minutes: float | None = None
    instructions: str = ""
    version: str = "1"
    source: str = ""

    def steps(self) -> list[tuple[Topic, Question]]:
        """Every question with its topic, in interview order."""
        return [(topic, question) for topic in self.topics for question in topic.questions]

    def term(self, term: str) -> GuardedTerm:
        for guarded in self.guarded_terms:
            if guarded.term == term:
                return guarded
        raise KeyError(f"schedule {self.id!r} has no guarded term {term!r}")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return {
        _INT: "a number",
        _FLOAT: "a number",
        _BOOL: "true/false",
        _NULL: "an empty value",
        _STR: "text",
    }.get(str(node.tag), f"a value tagged {node.tag}")


def _label(node: Node, kind: str, key: str = "id") -> str:
    """How a problem names an element before it is parsed: "question 'q1'", else "a question"."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, ScalarNode)
                and key_node.value == key
                and isinstance(value_node, ScalarNode)
                and value_node.tag == _STR
                and value_node.value.strip()
            ):
                return f"{kind} '{value_node.value.strip()}'"
    return f"a {kind}"


@dataclass(frozen=True)
class _Field:
    key: Node
    value: Node


@dataclass(frozen=True)
class _Spoken:
    """A text the interviewer reads aloud (question, probe or follow-up) and the guarded terms
    it may say: a question's or probe's gates, a follow-up's own term."""

    what: str
    node: Node
    text: str
    gates: frozenset[str]
    follow_up: bool = False  # a follow-up has no gates to add: it can only be reworded


def _term_key(text: str) -> str:
    """How a term or form is compared: folded (soft hyphens, full-width letters) and casefolded."""
    return fold_text(text).strip().casefold()


class _Parser:
    """Walks the composed YAML nodes, builds the model and collects problems on the way."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = text.splitlines()
        self.problems: list[Problem] = []
        self.ids: dict[str, int] = {}
        self.terms: dict[str, GuardedTerm] = {}  # _term_key(term) → term
        self.spoken: list[_Spoken] = []
        self.visited: set[int] = set()

    def problem(self, where: Node | int, message: str) -> None:
        line = where if isinstance(where, int) else _line(where)
        self.problems.append(Problem(self.source, line, message))

    # -- generic shapes ------------------------------------------------------------------

    def mapping(
        self,
        node: Node,
        what: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...],
        at: Node | None = None,
    ) -> dict[str, _Field] | None:
        if not isinstance(node, MappingNode):
            self.problem(at or node, f"{what} must be a mapping of keys, not {_describe(node)}")
            return None
        if id(node) in self.visited:  # an alias (*name) re-using a mapping: refuse, stay linear
            self.problem(node, f"{what}: YAML anchors and aliases (&, *) are not supported")
            return None
        self.visited.add(id(node))
        fields: dict[str, _Field] = {}
        for key_node, value_node in node.value:
            key = self.key_name(key_node, what)
            if key is None:
                continue
            if key in fields:
                first = _line(fields[key].key)
                self.problem(key_node, f"duplicate key '{key}' in {what} (first on line {first})")
            elif key not in allowed:
                self.problem(key_node, f"unknown key '{key}' in {what}{_suggest(key, allowed)}")
            else:
                fields[key] = _Field(key_node, value_node)
        for key in required:
            if key not in fields:
                self.problem(node, f"{what} is missing the required key '{key}'")
        return fields

    def key_name(self, node: Node, what: str) -> str | None:
        if isinstance(node, ScalarNode) and node.tag == _STR:
            return str(node.value)
        self.problem(node, f"{what}: keys must be plain words, not {_describe(node)}")
        return None

    def text(self, field: _Field | None, what: str, required: bool = True) -> str | None:
        """A text value; `None` (with a problem if required) when missing, empty or not text."""
        if field is None:
            return None
        node = field.value
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            if required:
                self.problem(field.key, f"{what} is empty")
                return None
            return ""
        if not isinstance(node, ScalarNode) or node.tag != _STR:
            quote = " (put it in quotes)" if isinstance(node, ScalarNode) else ""
            self.problem(field.key, f"{what} must be text, not {_describe(node)}{quote}")
            return None
        value = str(node.value).strip()
        if required and not value:
            self.problem(field.key, f"{what} is empty")
            return None
        return value

    def number(self, field: _Field | None, what: str) -> float | None:
        if field is None:
            return None
        node = field.value
        if isinstance(node, ScalarNode) and node.tag in (_INT, _FLOAT):
            try:
                value = float(str(node.value).replace("_", ""))
            except ValueError:
                value = -1.0  # ".inf"/".nan" spellings PyYAML accepts but minutes cannot be
            if 0 < value < float("inf"):
                return value
        self.problem(
            field.key, f"{what} must be a positive number of minutes, not {_describe(node)}"
        )
        return None

    def version(self, field: _Field | None) -> str:
        if field is None:
            return "1"
        node = field.value
        if isinstance(node, ScalarNode) and node.tag in (_STR, _INT, _FLOAT) and node.value:
            return str(node.value)
        self.problem(field.key, f"version must be text or a number, not {_describe(node)}")
        return "1"

    def sequence(self, field: _Field | None, what: str) -> list[Node]:
        if field is None:
            return []
        node = field.value
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return []
        self.problem(field.key, f"{what} must be a list (lines starting with '- ')")
        return []

    def identifier(self, field: _Field | None, what: str) -> str | None:
        """An ID, registered in the one namespace shared by topics, questions and probes."""
        value = self.text(field, f"{what} id")
        if value is None or field is None:
            return None
        if not _ID_PATTERN.fullmatch(value):
            self.problem(
                field.value,
                f"{what} id '{value}' may use only letters, digits, '-', '_' and '.'",
            )
        line = _line(field.value)
        if value in self.ids:
            self.problem(line, f"duplicate id '{value}' (already used on line {self.ids[value]})")
        else:
            self.ids[value] = line
        return value

    def requires(self, field: _Field | None, what: str) -> tuple[str, ...]:
        """Gate names, checked against the guarded terms. A single name may skip the list."""
        if field is None:
            return ()
        node = field.value
        if isinstance(node, ScalarNode) and node.tag == _STR:
            items: list[Node] = [node]
        else:
            items = self.sequence(field, f"{what} requires")
        gates: list[str] = []
        for item in items:
            if not isinstance(item, ScalarNode) or item.tag != _STR or not item.value.strip():
                self.problem(item, f"{what} requires: each entry must be a guarded term's name")
                continue
            guarded = self.terms.get(_term_key(item.value))
            if guarded is None:
                known = ", ".join(t.term for t in self.terms.values()) or "none defined"
                self.problem(
                    item,
                    f"{what} requires unknown guarded term '{item.value.strip()}' (known: {known})",
                )
                continue
            gates.append(guarded.term)
        return tuple(dict.fromkeys(gates))

    # -- the schedule --------------------------------------------------------------------

    def schedule(self, root: Node) -> Schedule | None:
        fields = self.mapping(root, "the schedule", TOP_KEYS, ("id", "title", "topics"))
        if fields is None:
            return None
        schedule_id = self.text(fields.get("id"), "schedule id")
        title = self.text(fields.get("title"), "schedule title")
        version = self.version(fields.get("version"))
        target = self.number(fields.get("target_minutes"), "target_minutes")
        instructions = self.text(fields.get("instructions"), "instructions", required=False)
        terms = self.guarded_terms(fields.get("guarded_terms"))
        topic_nodes = self.sequence(fields.get("topics"), "topics")
        if "topics" in fields and not topic_nodes:
            self.problem(fields["topics"].key, "the schedule has no topics")
        topics = [self.topic(node) for node in topic_nodes]
        self.lint_spoken(TermMatcher(terms))
        if self.problems or schedule_id is None or title is None:
            return None
        return Schedule(
            id=schedule_id,
            title=title,
            topics=tuple(t for t in topics if t is not None),
            guarded_terms=tuple(terms),
            target_minutes=target,
            instructions=instructions or "",
            version=version,
            source=self.source,
        )

    def guarded_terms(self, field: _Field | None) -> list[GuardedTerm]:
        terms: list[GuardedTerm] = []
        owner_of_form: dict[str, str] = {}
        for node in self.sequence(field, "guarded_terms"):
            guarded = self.guarded_term(node)
            if guarded is None:
                continue
            key = _term_key(guarded.term)
            if key in self.terms:
                self.problem(node, f"guarded term '{guarded.term}' is listed twice")
                continue
            for form in {_term_key(f) for f in (guarded.term, *guarded.forms)}:
                other = owner_of_form.setdefault(form, guarded.term)
                if other != guarded.term:
                    self.problem(
                        node, f"form '{form}' belongs to both '{other}' and '{guarded.term}'"
                    )
            self.terms[key] = guarded
            terms.append(guarded)
        return terms

    def guarded_term(self, node: Node) -> GuardedTerm | None:
        fields = self.mapping(
            node, _label(node, "guarded term", "term"), TERM_KEYS, ("term", "follow_up")
        )
        if fields is None:
            return None
        term = self.text(fields.get("term"), "term")
        what = f"guarded term '{term}'" if term else "a guarded term"
        forms = self.forms(fields.get("forms"), what)
        follow_up = fields.get("follow_up")
        follow = None
        if follow_up is not None:
            follow = self.mapping(
                follow_up.value,
                f"the follow_up of {what}",
                FOLLOW_UP_KEYS,
                FOLLOW_UP_KEYS,
                at=follow_up.key,
            )
        if follow is None or term is None:
            return None
        follow_id = self.identifier(follow.get("id"), "follow-up")
        follow_text = self.text(follow.get("text"), f"the follow_up text of {what}")
        if follow_id is None or follow_text is None:
            return None
        self.spoken.append(
            _Spoken(
                f"the follow-up of {what}",
                follow["text"].value,
                follow_text,
                frozenset({term}),
                follow_up=True,
            )
        )
        return GuardedTerm(term, forms, follow_id, follow_text, line=_line(node))

    def forms(self, field: _Field | None, what: str) -> tuple[str, ...]:
        forms: list[str] = []
        for item in self.sequence(field, f"forms of {what}"):
            if isinstance(item, ScalarNode) and item.tag == _STR and item.value.strip():
                forms.append(item.value.strip())
            else:
                self.problem(
                    item, f"forms of {what}: each form must be a word, not {_describe(item)}"
                )
        return tuple(dict.fromkeys(forms))

    def topic(self, node: Node) -> Topic | None:
        fields = self.mapping(
            node, _label(node, "topic", "id"), TOPIC_KEYS, ("id", "title", "questions")
        )
        if fields is None:
            return None
        topic_id = self.identifier(fields.get("id"), "topic")
        what = f"topic '{topic_id}'" if topic_id else "a topic"
        title = self.text(fields.get("title"), f"the title of {what}")
        target = self.number(fields.get("target_minutes"), f"target_minutes of {what}")
        instructions = self.text(fields.get("instructions"), "instructions", required=False)
        question_nodes = self.sequence(fields.get("questions"), f"questions of {what}")
        if "questions" in fields and not question_nodes:
            self.problem(fields["questions"].key, f"{what} has no questions")
        questions = [self.question(q) for q in question_nodes]
        if topic_id is None or title is None:
            return None
        return Topic(
            id=topic_id,
            title=title,
            questions=tuple(q for q in questions if q is not None),
            instructions=instructions or "",
            target_minutes=target,
        )

    def question(self, node: Node) -> Question | None:
        fields = self.mapping(node, _label(node, "question", "id"), QUESTION_KEYS, ("id", "text"))
        if fields is None:
            return None
        question_id = self.identifier(fields.get("id"), "question")
        what = f"question '{question_id}'" if question_id else "a question"
        text = self.text(fields.get("text"), f"the text of {what}")
        instructions = self.text(fields.get("instructions"), "instructions", required=False)
        requires = self.requires(fields.get("requires"), what)
        if text is not None:
            self.spoken.append(_Spoken(what, fields["text"].value, text, frozenset(requires)))
        probes = [
            self.probe(p, frozenset(requires))
            for p in self.sequence(fields.get("probes"), f"probes of {what}")
        ]
        if question_id is None or text is None:
            return None
        return Question(
            id=question_id,
            text=text,
            probes=tuple(p for p in probes if p is not None),
            requires=requires,
            instructions=instructions or "",
        )

    def probe(self, node: Node, question_gates: frozenset[str]) -> Probe | None:
        fields = self.mapping(node, _label(node, "probe", "id"), PROBE_KEYS, ("id", "text"))
        if fields is None:
            return None
        probe_id = self.identifier(fields.get("id"), "probe")
        what = f"probe '{probe_id}'" if probe_id else "a probe"
        text = self.text(fields.get("text"), f"the text of {what}")
        requires = self.requires(fields.get("requires"), what)
        if text is not None:
            # A probe is only reachable through its question, so the question's gates hold too.
            gates = question_gates | frozenset(requires)
            self.spoken.append(_Spoken(what, fields["text"].value, text, gates))
        if probe_id is None or text is None:
            return None
        return Probe(id=probe_id, text=text, requires=requires)

    # -- the guarded-term lint -----------------------------------------------------------

    def lint_spoken(self, matcher: TermMatcher) -> None:
        """Questions and probes may only say a guarded term when gated on it; a follow-up only
        its own term (it is asked once that term is raised, while others may still be locked).
        Matching folds the text first, so a soft hyphen or full-width letters hide nothing."""
        for spoken in self.spoken:
            reported: set[str] = set()  # one problem per term per text
            for match in matcher.find(spoken.text):
                if match.term in spoken.gates or match.term in reported:
                    continue
                reported.add(match.term)
                said = f"{spoken.what} says '{match.form}' (guarded term '{match.term}')"
                fix = (
                    "which may still be locked when it is asked: reword it"
                    if spoken.follow_up
                    else f"but is not gated on it: add `requires: [{match.term}]` or reword it"
                )
                self.problem(self.line_of_term(spoken.node, matcher, match.term), f"{said} {fix}")

    def line_of_term(self, node: Node, matcher: TermMatcher, term: str) -> int:
        """The source line inside a (possibly multi-line) text where the term appears."""
        first, last = int(node.start_mark.line), int(node.end_mark.line)
        if node.end_mark.column == 0 and last > first:
            last -= 1  # a block scalar ends at the start of the next line
        for index in range(first, min(last, len(self.lines) - 1) + 1):
            if any(m.term == term for m in matcher.find(self.lines[index])):
                return index + 1
        return first + 1


def _syntax_problem(error: yaml.YAMLError, text: str, source: str) -> Problem:
    if isinstance(error, yaml.reader.ReaderError):
        line = text[: error.position].count("\n") + 1
        return Problem(
            source,
            line,
            f"unreadable character {error.character!r} (is this a binary file?)",
        )
    if isinstance(error, yaml.MarkedYAMLError):
        # Scanner errors ("while scanning a simple key/quoted scalar") point at the line after
        # the real mistake; their context mark is where it starts.
        context = error.context or ""
        mark = error.problem_mark
        if context.startswith("while scanning") and error.context_mark is not None:
            mark = error.context_mark
        line = int(mark.line) + 1 if mark is not None else 1
        detail = error.problem or "invalid YAML"
        suffix = f" ({context})" if context else ""
        return Problem(source, line, f"YAML syntax error: {detail}{suffix}")
    return Problem(source, 1, f"YAML syntax error: {error}")


def parse_schedule(text: str, source: str = "<schedule>") -> tuple[Schedule | None, list[Problem]]:
    """Parse and lint schedule text. Returns the schedule only when there is no problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        return None, [_syntax_problem(error, text, source)]
    except RecursionError:
        return None, [Problem(source, 1, "the YAML is nested too deeply to be a schedule")]
    if root is None:
        return None, [Problem(source, 1, "the schedule is empty")]
    if not isinstance(root, MappingNode):
        message = f"the top level must be a mapping (id, title, topics …), not {_describe(root)}"
        return None, [Problem(source, _line(root), message)]
    parser = _Parser(text, source)
    schedule = parser.schedule(root)
    problems = sorted(parser.problems, key=lambda p: p.line)
    return (schedule if not problems else None), problems


def _read_text(path: Path) -> tuple[str | None, Problem | None]:
    source = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, Problem(source, 1, "no such file")
    except IsADirectoryError:
        return None, Problem(source, 1, "this is a folder, not a schedule file")
    except OSError as error:
        return None, Problem(source, 1, f"cannot read the file: {error.strerror or error}")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, Problem(source, line, "this is a binary file, not a YAML schedule")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start]
        return None, Problem(source, line, f"not UTF-8 text (byte 0x{byte:02x}); save it as UTF-8")


def _checked(path: str | Path) -> tuple[Schedule | None, list[Problem]]:
    source = str(path)
    try:
        text, problem = _read_text(Path(path))
        if problem is not None or text is None:
            return None, [problem or Problem(source, 1, "cannot read the file")]
        return parse_schedule(text, source)
    except Exception as error:  # the lint promises one line per problem, never a traceback
        return None, [Problem(source, 1, f"cannot check this file: {type(error).__name__}")]


def check_schedule(path: str | Path) -> list[Problem]:
    """Every problem in the schedule file, sorted by line; empty when it is clean. Never raises."""
    return _checked(path)[1]


def load_schedule(path: str | Path) -> Schedule:
    """The schedule in `path`, or `ScheduleError` listing each problem as `FILE:LINE: message`."""
    schedule, problems = _checked(path)
    if schedule is None or problems:
        count = len(problems)
        first = problems[0] if problems else Problem(str(path), 1, "unknown problem")
        raise ScheduleError(
            f"schedule {path} has {count} problem{'s' if count != 1 else ''}; first: {first}",
            f"run `fieldkit schedule check {path}` and fix the lines it lists",
            problems=[str(p) for p in problems],
        )
    return schedule
