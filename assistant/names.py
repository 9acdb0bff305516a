"""The names a question uses (CLIP, PHOENIX-2014T): which paper introduces one, which none does.

A question about a name no paper mentions, or one the papers use but none introduces, may be
near the collection's topics by every score and still not be covered by it; a question about
a rare name one paper introduces is about that paper, whatever the scores say.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from assistant.records import SENTENCE_START, Paper, plural_pattern, singular, unraised

#: A name: a word with a capital after its first letter ("CLIP", "ResNet", "t-SNE", "NYUv2") or
#: a capital with digits ("Qwen3-32B", "MATH-500", "PHOENIX-2014T"). A capitalised word alone
#: ("Adam", "Shampoo", a sentence's first word) is not one: too many are ordinary words.
_NAME = re.compile(
    r"(?<![\w-])(?=[\w-]*[A-Za-z][\w-]*[A-Z]|[\w-]*[A-Z][\w-]*\d|[\w-]*\d[\w-]*[A-Z])"
    r"[A-Za-z0-9][\w-]*[A-Za-z0-9](?![\w-])"
)
#: The asked-about name after an article and a word like "original": "the original CLIP".
_NAMED = (
    r"(?:(?:the|a|an)\s+)?(?:(?:original|standard|vanilla|classic|first|base|basic)\s+)?"
    r"(?P<name>[\w-]+)"
)
#: The name a question is about: "How was the original CLIP model pre-trained?", "What is
#: ControlNet?", "How does LSUV initialization work?".
_SUBJECT = re.compile(
    r"^\s*(?:(?:how|why|when|where|who|what)\s+(?:is|was|were|are|does|did|do|has|had|have|can|"
    rf"could|should)|what\s+(?:is|was|are|were))\s+{_NAMED}"
    r"(?:\s+(?P<next>[\w-]+))?",
    re.IGNORECASE,
)
#: The same with the name first: "Explain how CLIP is built" asks "how CLIP is built".
_SUBJECT_FIRST = re.compile(
    rf"^\s*(?:how|why|when|where)\s+{_NAMED}"
    r"(?:\s+(?:model|method|algorithm|architecture|dataset|benchmark))?"
    r"\s+(?:is|was|were|are|works?|worked|does|did)\b",
    re.IGNORECASE,
)
#: A question for where a name comes from: "Which paper proposes LoRA, low-rank adapters ...?",
#: "Who first introduced the FLEURS benchmark?". The name must end what is asked (a kind of
#: thing aside): "Which paper introduced DPO with nested risk measures?" asks for a variant.
_ORIGIN = re.compile(
    r"^\s*(?:(?:which|what)\s+(?:\w+\s+){0,2}(?:paper|work|article|study|publication)"
    r"(?:\s+(?:that|which))?|who)\s+"
    r"(?:(?:first|originally)\s+)?(?:introduc|propos|present|invent|came\s+up\s+with|coin)\w*\s+"
    rf"{_NAMED}(?:\s+(?:model|method|algorithm|architecture|dataset|benchmark|optimi[sz]er))?"
    r"\s*(?:[,?.(]|$)",
    re.IGNORECASE,
)
#: Capitalised words in a row, possessive aside: "Stable Diffusion's".
_TITLE_CASE_RUN = re.compile(r"((?:[A-Z][a-z]+)(?:\s+[A-Z][a-z]+)+)(?:'s)?(?![\w-])")
#: A name that only qualifies what is asked about: "How do CLIP-guided methods ...?", "How do
#: LLM agents ...?" ask about the methods and the agents, which papers using the name describe.
_QUALIFIER = re.compile(r"-(?:based|guided|style|like|conditioned|free|driven|inspired)$", re.I)
_PLURAL = re.compile(r"^(?!(?:is|was|has|does|this|its)$)\w{3,}s$", re.I)
#: A capitalised word ("Montezuma's", "Hinton").
_CAPITALISED = re.compile(r"(?<![\w'-])[A-Z][a-z]+(?![\w-])")


def names(text: str) -> list[str]:
    """The names ``text`` uses, in order, each once.

    >>> names("How accurate are 7B sign language models on PHOENIX-2014T, per GPT-4 and BLEU?")
    ['PHOENIX-2014T', 'GPT-4', 'BLEU']
    >>> names("Which real-world optimizer (Real-World, Tree-OPO) combines Shampoo and Adam?")
    ['Tree-OPO']
    """
    found = [m.group(0) for m in _NAME.finditer(text)]
    # "7B", "3D", "4K" are sizes and units; "Real-World", "Pre-Training" are title case.
    kept = (
        n
        for n in found
        if sum(c.isalpha() for c in n) >= 2
        and ("-" not in n or any(_NAME.fullmatch(part) for part in n.split("-")))
    )
    return list(dict.fromkeys(kept))


def proper(text: str) -> list[str]:
    """The capitalised words of ``text`` that open no sentence, each once: most are names
    ("Montezuma", "Hinton", "Haoli"), some adjectives ("Bayesian").

    >>> proper("Which RL agents solve Montezuma's Revenge? Hinton's nets and 'Old Bayesian Ideas'")
    ['Montezuma', 'Revenge', 'Bayesian', 'Ideas']
    """
    found = _CAPITALISED.finditer(text)
    return list(
        dict.fromkeys(m.group(0) for m in found if not SENTENCE_START.search(text[: m.start()]))
    )


def subject(question: str) -> str | None:
    """The name ``question`` asks about, when it asks about one.

    >>> subject("How was the original CLIP model pre-trained on image-text pairs?")
    'CLIP'
    >>> subject("What MATH-500 pass@1 did a 7B model reach?") is None
    True
    >>> subject("how the ImageNet-1K dataset was built")
    'ImageNet-1K'
    >>> subject("How does Stable Diffusion's autoencoder compress images?")
    'Stable Diffusion'
    >>> [subject(q) for q in ("Which paper proposes LoRA, low-rank adapters for LLMs?",
    ...     "Who first introduced the FLEURS benchmark?", "Which paper introduced DPO with risk?",
    ...     "What is the paper that originally proposed CLIP?")]
    ['LoRA', 'FLEURS', None, 'CLIP']
    """
    origin = _ORIGIN.match(question)
    if origin is not None:
        found = names(origin.group("name"))
        if found:
            return found[0]
    match = _SUBJECT.match(question)
    if match is not None and match.group("next") and _PLURAL.match(match.group("next")):
        return None
    match = match or _SUBJECT_FIRST.match(question)
    if match is None or _QUALIFIER.search(match.group("name")):
        return None
    found = names(match.group("name"))
    if found:
        return found[0]
    # Two or more capitalised words in a row name one thing ("How does Stable Diffusion's
    # autoencoder work?"), though each alone may be a word; the question's own first word is
    # never among them, as both patterns open with "how", "what" or the like.
    run = _TITLE_CASE_RUN.match(question, match.start("name"))
    return run.group(1) if run else None


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", unraised(text)) is not None


def mentioned(text: str, name: str, expansions: Sequence[str] = ()) -> bool:
    """Whether ``text`` names ``name`` in any spelling: any case, with or without hyphens or
    spaces between its parts, singular or plural; a name that qualifies ("GAN-based") by
    what it qualifies with; an acronym by one of its ``expansions`` (see :func:`definitions`).

    >>> [mentioned("We distil BERT-base and two LLM agents on CIFAR-10 with GANs.", n)
    ...  for n in ("Bert", "LLMs", "CIFAR10", "GPT-4", "GAN-based")]
    [True, True, True, False, True]
    >>> mentioned("Layer pruning of large language models.", "LLMs", ["large language models"])
    True
    >>> [mentioned("Tighter PAC-Bayesian bounds", n) for n in ("PAC-Bayes", "PAC-Bayes bound")]
    [True, False]
    """
    text = unraised(text)  # "E$^3$-Pruner" is "E3-Pruner"
    bare = re.sub(r"(?<=[A-Z])s$", "", _QUALIFIER.sub("", name))
    parts = re.findall(r"[A-Za-z0-9]", bare)
    loose = r"[-\s]?".join(re.escape(c) for c in parts)
    # ... or as the adjective a name makes: "PAC-Bayesian" names PAC-Bayes, "Markovian" Markov.
    pattern = rf"(?<![A-Za-z0-9]){loose}(?:s|[ie]an)?(?![a-z0-9])"
    if re.search(pattern, text, re.IGNORECASE):
        return True
    if any(capitalised(text, acronym) for acronym in acronyms(bare)):
        return True
    return any(written_out(text, expansion) for expansion in expansions)


def capitalised(text: str, acronym: str) -> bool:
    """Whether ``text`` writes ``acronym`` out in capitalised words whose initials spell it,
    as a title does ("... Prompting Methods in Natural Language Processing" for NLP, which no
    abstract defines). Lower-case initials in a row occur by chance ("establish convergence
    guarantees" spells ECG); see :func:`definitions`.

    >>> capitalised("A Survey of Methods in Natural Language Processing", "NLP")
    True
    >>> capitalised("we establish convergence guarantees", "ECG")
    False
    """
    return _in_capitals(acronym).search(text) is not None


def _in_capitals(acronym: str) -> re.Pattern[str]:
    """Whole capitalised words whose initials spell ``acronym`` (see :func:`capitalised`)."""
    return re.compile(rf"(?<![\w-]){_initials(acronym)}(?![\w-])")


def title_forms(acronym: str, papers: Sequence[Paper]) -> list[str]:
    """The long forms of ``acronym`` (a whole acronym, else none) that titles of ``papers``
    write out in capitalised words (see :func:`capitalised`); lower case, singular.

    >>> paper = Paper(paper_id="p", abstract="",
    ...     title="Taming Off-policy Generative Adversarial Imitation Learning")
    >>> title_forms("GAIL", [paper]), title_forms("Lion", [paper])
    (['generative adversarial imitation learning'], [])
    """
    if not ACRONYM.fullmatch(acronym):
        return []
    pattern = _in_capitals(acronym)
    found = (_singular(m.group(0).lower()) for p in papers for m in pattern.finditer(p.title))
    return list(dict.fromkeys(found))


#: Short words an acronym may skip ("Reinforcement Learning from Human Feedback", RLHF).
_GLUE = r"(?:of|for|from|with|and|the|to|in|on|by|via)"


def _initials(acronym: str) -> str:
    """A pattern of words whose initials spell ``acronym``, short words like "of" allowed
    between them ("Reinforcement Learning from Human Feedback")."""
    words = [rf"{re.escape(c)}[\w']*" for c in acronym]
    return rf"(?:[-\s]+{_GLUE})?[-\s]+".join(words)


#: An acronym: two to six capitals, maybe with a plural "s" (group 1 without it).
ACRONYM = re.compile(r"(?<![\w-])([A-Z]{2,6})s?(?![\w-])")


def acronyms(text: str) -> list[str]:
    """The acronyms (two to six capitals) ``text`` uses, plural "s" dropped.

    >>> acronyms("Do LLMs use RLHF or RL on a GPU-4?")
    ['LLM', 'RLHF', 'RL']
    """
    found = (m.group(1) for m in ACRONYM.finditer(text))
    return list(dict.fromkeys(found))


def definitions(text: str, acronym: str) -> list[str]:
    """The long forms ``text`` defines ``acronym`` by: words whose initials spell it, right
    before it in brackets; lower case, singular.

    Only a definition counts: initials in a row occur by chance ("establish convergence
    guarantees" spells ECG), so an acronym is taken as written out only in the forms the
    collection itself defines it by (see LexicalIndex.expansions).

    >>> definitions("Large language models (LLMs) and reinforcement learning from human "
    ...     "feedback (RLHF) ...", "LLM")
    ['large language model']
    >>> definitions("Reinforcement Learning from Human Feedback (RLHF).", "RLHF")
    ['reinforcement learning from human feedback']
    """
    long_form = rf"(?<![\w-])({_initials(acronym)})"
    pattern = re.compile(rf"{long_form}\s*\(\s*{re.escape(acronym)}s?\s*\)", re.IGNORECASE)
    found = (_singular(m.group(1).lower()) for m in pattern.finditer(text))
    return list(dict.fromkeys(found))


def _singular(phrase: str) -> str:
    *words, last = re.split(r"[-\s]+", phrase)
    return " ".join([*words, singular(last)])


def written_out(text: str, expansion: str) -> bool:
    """Whether ``text`` holds ``expansion`` (a :func:`definitions` form), any case, hyphens or
    spaces between its words, singular or plural.

    >>> written_out("We prune Large Language Models.", "large language model")
    True
    >>> form = definitions("Gaussian processes (GPs) ...", "GP")[0]
    >>> form, written_out("Deep Gaussian processes", form)
    ('gaussian process', True)
    >>> written_out("Diffusion policies for robots", "diffusion policy")
    True
    """
    *words, last = expansion.split()
    loose = r"[-\s]+".join([*(re.escape(w) for w in words), plural_pattern(last)])
    return re.search(rf"(?<![\w-]){loose}(?![\w'])", text, re.IGNORECASE) is not None


#: Words before a name spelled out that make it an example, not the paper's own.
_EXAMPLE = re.compile(
    r"\b(?:including|includes?|such as|e\.g\.|for (?:example|instance)|compared (?:to|with)|"
    r"than|(?<!-)like)\b",  # not "IV-like (IVL) regression"
    re.IGNORECASE,
)


def introduces(paper: Paper, name: str) -> bool:
    """Whether ``paper`` is where ``name`` comes from rather than a paper that uses it: its title
    names it ("SOAP: Improving ..."), or its abstract defines it ("(LSUV)", "called X", "X, a
    ...") or states its own work with it ("We propose X", "an algorithm, X,", "our X").

    >>> paper = Paper(paper_id="p", title="Where to put the Image", abstract="We propose a fast "
    ...     "algorithm, CoLSTIM, an RNN with an LSTM head; it beats CLIP.")
    >>> [introduces(paper, name) for name in ("CoLSTIM", "RNN", "LSTM", "CLIP")]
    [True, False, False, False]
    >>> variant = Paper(paper_id="v", title="Strata-NeRF: Stratified Scenes",
    ...     abstract="Neural Radiance Fields (NeRF) model scenes; Strata-NeRF (ours) layers them.")
    >>> [introduces(variant, name) for name in ("NeRF", "Strata-NeRF")]
    [False, True]
    >>> applied = Paper(paper_id="a", title="Weight Conditioning", abstract="We test it on "
    ...     "architectures including Vision Transformers (ViT). Weight conditioning (WeCo) helps.")
    >>> [introduces(applied, name) for name in ("ViT", "WeCo")]
    [False, True]
    """
    if _mentions(paper.title, name):
        return True
    quoted = re.escape(name)
    end = r"(?![\w-])"
    stated = (
        rf"\b[Oo]ur\s+{quoted}{end}"
        rf"|\b(?:call(?:ed)?|named|dub(?:bed)?|coined|term(?:ed)?)\s+(?:it\s+)?(?:the\s+)?{quoted}{end}"
        rf"|\b(?:propos|introduc|present|develop|design)\w*\s+(?:[^.,;]{{0,60}},\s+)?"
        rf"(?:(?:a|an|the|new|novel)\s+)*{quoted}{end}"
    )
    if re.search(rf"\w-{quoted}(?!\w)|(?<!\w){quoted}-\w", paper.title):
        # A title naming a variant of it ("Strata-NeRF: ...") builds on it: its abstract
        # spelling it out ("Neural Radiance Fields (NeRF)") is no sign it comes from there.
        return re.search(stated, paper.abstract) is not None
    if re.search(rf"(?<![\w-]){quoted},\s+an?\s|{stated}", paper.abstract):
        return True
    # Spelled out in parentheses ("Layer-sequential unit-variance (LSUV) initialization"),
    # unless as one example of what the paper applies or beats ("architectures including
    # ..., Neural Radiance Fields (NeRF)", "compared to ... the current SOTA (VPD)").
    for sentence in re.split(r"(?<=[.!?])\s+", paper.abstract):
        defined = re.search(rf"\(\s*{quoted}\s*\)", sentence)
        if defined and not _EXAMPLE.search(sentence[: defined.start()]):
            return True
    return False


#: A name at most this many papers use is specific enough for the paper introducing it to be
#: what a question naming it is about ("How does NGBoost work?"), whatever the scores say; a
#: common one ("LLM" in a dozen titles) is not.
RARE = 2


#: How many of the papers found, best first, the mention rules read.
NEAR = 10
#: A name that heads the title of a paper introducing it ("SOAP: Improving and Stabilizing
#: Shampoo using Adam") is that paper's, though a few others compare with it: up to this many
#: papers may use it.
HEADED = 5


class Verdict(NamedTuple):
    """What the names of a question say about the papers found for it."""

    makers: list[Paper]  # the papers introducing a rare name it uses (or using one, asked so)
    doubt: str | None  # why it may not be covered whatever the scores say


#: A question after the papers that use something: "Which paper uses the FLEURS benchmark?",
#: "papers that evaluate on NYUv2", "has any study reported results on X".
_USED_BY = re.compile(
    r"\b(?:papers?|works?|stud(?:y|ies)|articles?|anyone|anybody)\b[^?.!]{0,40}?"
    r"\b(?:us(?:e|es|ed|ing)|evaluat\w*|report\w*|test(?:s|ed)?|experiment\w*|benchmark\w*|"
    r"appl(?:y|ies|ied)|employ\w*|adopt\w*)\b",
    re.IGNORECASE,
)


def asks_use(question: str) -> bool:
    """Whether ``question`` asks which papers use something.

    >>> [asks_use(q) for q in ("Which paper uses the FLEURS benchmark?",
    ...     "What tokenizer does Whisper use?", "How was the original CLIP trained?",
    ...     "Which work first introduced the FLEURS benchmark?")]
    [True, False, False, False]
    """
    # One asking where the name comes from (``_ORIGIN``) is not answered by its users.
    return _USED_BY.search(question) is not None and _ORIGIN.match(question) is None


def judge(
    question: str,
    papers: Sequence[Paper],
    papers_using: Callable[[str], int],
    users: Callable[[str], Sequence[Paper]],
    expansions: Callable[[str], Sequence[str]] = lambda acronym: (),
    close: Callable[[Paper], bool] = lambda paper: True,
    asks_use: bool = False,
    words: Sequence[str] = (),
    about: str | None = None,
) -> Verdict:
    """What the names in ``question`` say about the found ``papers`` covering it.

    A name no paper mentions ("PHOENIX-2014T") means what the question is about is not in the
    collection, though papers on its neighbours may be close. A rare name that a paper
    introduces makes the question about that paper, found or not (a fusion dominated by
    meaning can drop "ATM: Improving Model Merging..." from "What are the main ideas behind
    ATM?"). A question about a name the papers use but none of them introduces ("How was CLIP
    pre-trained?") is not covered by abstracts that say how they use CLIP. Nor is one naming
    something none of the found papers mentions ("How do distillation methods compress BERT?"
    found papers on distillation; those that mention BERT were not close to the question).
    A question that ``asks_use`` (which papers use, evaluate on, report on a name: see
    :func:`asks_use`) is about the papers using a rare one, though none introduces it.
    ``papers_using`` counts the papers that use a name; ``users`` lists them, for a rare one;
    ``expansions`` gives the long forms the collection defines an acronym by; ``close`` tells
    the found papers near enough to the question for their mentions to count. Capitalised
    ``words`` (see :func:`proper`) count as names where no paper uses them: "Which strategies
    help RL agents solve Montezuma's Revenge?" is near papers on sparse rewards, about none.
    ``about`` is the name the question asks about (:func:`subject`) when ``question`` is what
    is searched of it, without its opening ("Which paper proposes LoRA?" searches "LoRA?").
    """
    question = unraised(question)  # "What is S^2MAM?" names "S2MAM", not "2MAM"
    found = names(question)
    # An acronym no paper uses that a close title writes out ("GAIL": "... Generative
    # Adversarial Imitation Learning") names what that title does.
    titled = {
        name: forms
        for name in found
        if papers_using(name) == 0 and (forms := title_forms(name, papers[:NEAR]))
    }
    missing = [
        name
        for name in [*found, *(w for w in words if w not in found)]
        if papers_using(name) == 0 and name not in titled
    ]
    if missing:
        listed = ", ".join(f"'{name}'" for name in missing)
        return Verdict([], f"No paper in the collection mentions {listed}.")
    rare = [name for name in found if papers_using(name) <= RARE]
    # "What is SOAP?": the paper whose title it heads, though two others compare with it.
    rare += [
        name
        for name in found
        if RARE < papers_using(name) <= HEADED
        and any(p.title.split(":")[0].strip() == name for p in papers[:NEAR])
    ]
    candidates = {p.paper_id: p for p in [*papers, *(p for n in rare for p in users(n))]}
    makers = [p for p in candidates.values() if any(introduces(p, name) for name in rare)]
    if makers:
        return Verdict(makers, None)
    if rare and asks_use:
        # "Which paper uses the FLEURS benchmark?": the papers using it are what it asks for.
        using = [p for name in rare for p in users(name) if mentioned(p.abstract, name)]
        if using:
            return Verdict(list({p.paper_id: p for p in using}.values()), None)
    # The closest few, whatever number the caller asked for, so that a verdict does not
    # change with the length of a listing.
    near = papers[:NEAR]
    texts = [f"{p.title}\n{p.abstract}" for p in near]
    about = about or subject(question)
    if (
        about is not None
        and not any(introduces(p, about) for p in near)
        and any(_mentions(text, about) for text in texts)
    ):
        return Verdict([], f"Papers in the collection use {about}, but none of them introduces it.")
    # A mention counts in a paper close to the question: one found ninth at a similarity no
    # better than an absent topic's best match does not make a question about BERT covered.
    closer = [i for i, paper in enumerate(near) if close(paper)]
    long_forms = {name: [*_spelled_out(name, expansions), *titled.get(name, ())] for name in found}

    @functools.cache
    def says(i: int, name: str) -> bool:  # each paper's mention of each name is read once
        return mentioned(texts[i], name, long_forms[name])

    unseen = [name for name in found if not any(says(i, name) for i in closer)]
    if near and unseen:
        listed = ", ".join(f"'{name}'" for name in unseen)
        if all(any(says(i, name) for i in range(len(near))) for name in unseen):
            # "LLM alignment", ranked first by embedding alignment: the papers on LLMs were
            # found, further down and further from the question.
            return Verdict(
                [],
                f"None of the papers closest to the question mentions {listed}; those found "
                "that do are further from it.",
            )
        return Verdict([], f"None of the papers found mentions {listed}.")
    if asks_use and found:
        # "Does any paper evaluate on ImageNet?", a name many papers use: the close papers
        # that mention it are what it asks for, as a rare name's users are above.
        using = [near[i] for i in closer if all(says(i, name) for name in found)]
        if using:
            return Verdict(using, None)
    return Verdict([], None)


def _spelled_out(name: str, expansions: Callable[[str], Sequence[str]]) -> list[str]:
    """The long forms the collection defines the acronyms in ``name`` by (``expansions``)."""
    return [e for a in acronyms(name) for e in expansions(a)]


def named_first(
    question: str,
    papers: Sequence[Paper],
    makers: Sequence[Paper],
    expansions: Callable[[str], Sequence[str]] = lambda acronym: (),
) -> list[Paper]:
    """``papers`` with each of the ``makers`` moved up past the papers above it that name
    nothing ``question`` names (a maker not among them comes up from the end).

    "How does CoLSTIM work?" puts CoLSTIM's paper ahead of one that only shares "how ... work",
    but "Compare OREAL with 1-shot RLVR" keeps RLVR's paper, which names RLVR without
    introducing it, ahead of OREAL's. An acronym is also named by one of its ``expansions``
    (the long forms the collection defines it by): "minibatch OT coupling breaks for
    conditional flow matching" keeps the paper on "minibatch optimal transport" for
    conditional flow matching ahead of one defining "optimal transport (OT)" for another
    use. Other papers keep their order.
    """
    asked = names(question)
    chosen = {p.paper_id for p in makers}
    long_forms = {name: _spelled_out(name, expansions) for name in asked}

    def named(paper: Paper) -> bool:
        text = f"{paper.title}\n{paper.abstract}"
        return paper.paper_id in chosen or any(
            _mentions(text, name) or any(written_out(text, form) for form in long_forms[name])
            for name in asked
        )

    found = {p.paper_id for p in papers}
    ordered: list[Paper] = []
    for paper in [*papers, *(p for p in makers if p.paper_id not in found)]:
        at = len(ordered)
        while paper.paper_id in chosen and at and not named(ordered[at - 1]):
            at -= 1
        ordered.insert(at, paper)
    return ordered
