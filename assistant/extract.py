"""question + retrieved papers -> an extracted answer: the abstracts' sentences, cited; no model."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.aspects import NOT_STATED, AspectFinder, asked_aspect
from assistant.cite import SentenceBank, add_marker, content_words
from assistant.markup import inert_markers
from assistant.query import Sort, asks_for_papers, sort_value
from assistant.records import Hit, author_count, code_given, counted
from assistant.retrieve import Retrieval
from assistant.themes import FEWEST_PAPERS, NAMED_BY

EXTRACTED_LABEL = "Extracted from the abstracts (no language model is configured):"

# Cue phrases for what an abstract contributes and what it found, as in classic extractive
# summarisation: a question names what it is after, and an answer also wants the paper's own
# statement of its method and result. On the dev questions, adding them raised the share of
# answer-note words in extracted answers from 0.27 to 0.49 (lookup) and 0.25 to 0.57 (multi)
# for 15 % more words.
_CONTRIBUTION = re.compile(
    r"\b(we|this (paper|work|study)|here,? we)\b[^.]{0,40}?"
    r"\b(propose|introduce|present|develop|design)"
    r"|\b(is|are) (proposed|introduced|presented)\b",
    re.IGNORECASE,
)
_FINDING = re.compile(
    r"\b(outperform|surpass|achiev|improv|reduc|gain|state-of-the-art|"
    r"(experiments?|results) (show|demonstrate)|we (show|find|demonstrate))",
    re.IGNORECASE,
)
_FIGURE = re.compile(r"\d")
NO_LIMITATION = NOT_STATED["limitations"]
_STEP = re.compile(r"(first|second|third|then|next|finally|specifically)\b", re.I)
_HOW = re.compile(r"\s*how\b(?!\s+(much|many|accurate|often|long|large|well|fast|big)\b)", re.I)
#: A request for all a paper says: "tell me more", "more details", "elaborate", "the full
#: abstract", "in detail".
_IN_FULL = re.compile(
    r"\b(?:tell\s+me\s+more|more\s+(?:details?|info(?:rmation)?)|elaborate|go\s+on"
    r"|(?:whole|full|complete|entire)\s+abstract|in\s+(?:more\s+|full\s+)?detail)\b"
    # "What's the abstract of SimVQ?", "give me the abstract for SOAP", "simvq abstract"
    r"|^\W*(?:(?:what(?:'s|\s+is)|give\s+me|show\s+me|get\s+me|send\s+me|print|paste)\s+)?"
    r"(?:the\s+|its\s+)?abstract\s+(?:of|for)\b|\babstract\W*(?:pl[sz]|please)?\W*$",
    re.I,
)
# A sentence that opens by pointing back ("These schedules", "Such situations", "It"), but not
# the abstract's "This paper ..." which stands alone.
_ANAPHOR = re.compile(
    r"(this|these|those|such|it|its|they|their)\b(?!\s+(paper|work|study|article|thesis)\b)"
    r"|(to (address|overcome|tackle|solve|mitigate) (this|these|such)|to this end|in response)\b",
    re.IGNORECASE,
)

#: Share of the best paper's retrieval score another paper needs to be quoted in an extracted
#: answer. Retrieval scores are z-scores over the candidates, so this asks a paper to stand
#: out from the pool at least this much as far as the best one does. On the dev questions it
#: keeps every gold paper of the top three (multi-paper ones at 0.59 or more), and drops most
#: bystanders of lookups (0.19-0.56).
_SPEAKING_SHARE = 0.4
#: A comparison asked of the answer ("compare X with Y", "X vs Y", "how does X differ from
#: Y?"): its second paper is quoted whatever it scores, as one of the two sides.
_COMPARING = re.compile(
    r"^\W*(?:compare|contrast)\b|\bdifferences?\s+between\b"
    r"|\bhow\s+(?:does|do|did)\s+.+?\s+(?:differ|compare)\s+(?:from|with|to|against)\b"
    r"|\bhow\s+(?:is|are)\s+.+?\s+different\b"
    # "SOAP vs MARS", "the GAIL paper vs ASkDAgger", not "learning rate vs batch size"
    r"|^\W*(?:\S+\s+)?\S+\s+(?:vs\.?|versus)\s|\bpaper\s+(?:vs\.?|versus)\s",
    re.IGNORECASE,
)
#: How far below the best paper's best sentence its second best may score and still be quoted
#: (score: cosine to the question + half the share of its words). With the bystander papers
#: gone, the best paper's second sentence on the question is often the one stating the answer
#: ("whereas FO stability is governed by the largest eigenvalue, ZO stability depends on the
#: entire Hessian spectrum"); at 0.1 it was left out.
_SECOND_SENTENCE_GAP = 0.3
#: How far below the best sentence of all (same score) the second or third paper's best
#: sentence may score and still be quoted, unless the question asks for papers. A paper can
#: stand out in retrieval on the question's topic words ("initialization") while none of its
#: sentences is about what was asked ("LSUV"). Chosen on half A of the dev questions (the
#: largest gap that cut bystanders without losing a gold paper: 28 of them quoted there
#: before, 19 after); see docs/measurements.md for half B.
_BYSTANDER_GAP = 0.3
#: How close to the best sentence of the papers that speak a sentence of a plural question's
#: fourth or fifth paper must come for that paper to be quoted though it stands out of the
#: pool less than they do ("Which papers merge the weights of several fine-tuned models?":
#: "Editing Models with Task Arithmetic", fourth, has the best sentence of all). Chosen on the
#: written and generated multi-paper questions, not the dev set: of 68 plural questions, one
#: gold paper more quoted and no other paper.
_AS_WELL = 0.05


def extract_answer(
    question: str, found: Retrieval, bank: SentenceBank, own: str | None = None
) -> str:
    """The abstracts' sentences that best answer ``question``, grouped by paper, cited.

    A sentence scores by its cosine to the question plus half the share of the question's
    content words it contains; which of a paper's sentences are quoted (in the abstract's
    order) is up to ``_quotes``. The best paper always speaks. The second and third speak
    when their retrieval score (how far the paper stands above the other candidates) is
    at least ``_SPEAKING_SHARE`` of the best one's (any score, when the question asks for
    papers in the plural); the fourth and fifth must also be closer
    than an absent topic's best match usually is (the calibration's ``absent_median``) or, in a
    plural question, hold ``_SPEAKING_SHARE`` of the best score. A lookup then cites its paper,
    not two bystanders. Papers listed by metadata (ordered by date, authors, upvotes) all speak.

    The plural rule was chosen on half A of the dev and written multi-paper questions
    (bench/multi_questions.jsonl): every gold paper quoted for 21 of 22 questions, from 18; on
    half B for 15 of 16, as before, with more neighbours quoted (docs/measurements.md).

    ``own`` is what a follow-up asks in its own words ("where was it published?"), without the
    earlier turns it is searched with ("(about: what are the limitations of ...)"): the aspect
    and the facts asked for, and whether papers named by their titles are asked for in the
    plural, are read from it.
    """
    threshold = found.absent_median or 0.0
    # "give me 3 papers on bandits": the three found all speak, as papers listed do.
    numbered = found.query.count is not None and found.query.sort is None
    ranked = found.query.sort is None and not found.query.listing and not numbered
    # A question asking for papers, plural, wants every one that answers it: no bar.
    # A follow-up about papers named by their titles asks in the plural only in its own words
    # ("tell me more (about: "ATM: ..."; Which papers are about model merging?)" does not).
    own = own or question
    several = asks_for_papers(own if found.quoted else question)
    standing = _SPEAKING_SHARE * max((h.score for h in found.hits), default=0.0)
    bar = 0.0 if several else standing
    # "compare the curse of conditions paper with FreeDoM": the second side is the second
    # paper found, which had been quoted only where it stood out as a lookup's must. So it is
    # where one side is a quoted title ('Compare "Online Clustered Codebook" with the rotation
    # trick') or the paper a follow-up's "it" stands for ("how does it compare with the online
    # clustered codebook paper?"): that paper alone had been quoted. Two quoted sides speak
    # as quoted titles do.
    compared = ranked and len(found.quoted) < 2 and bool(_COMPARING.search(own))

    def speaks(n: int, hit: Hit) -> bool:
        if n == 1 or numbered or (n == 2 and compared):
            return True
        if found.hits[0].paper.paper_id in found.quoted and not several:
            # 'summarize "Conformal Risk Control"': that paper, not its kin.
            return hit.paper.paper_id in found.quoted
        if ranked and bar > 0 and hit.score < bar:
            return False
        if n <= 3 or (hit.similarity or 0.0) >= threshold:
            return True
        # Papers that share a question's topic can all sit far from its wording ("build on the
        # Shampoo optimizer to make it cheaper, more stable or better understood": the 4-bit
        # Shampoo paper at 0.40), so the fourth and fifth of a plural question also speak when
        # they stand out of the pool as a singular question's second and third must.
        return ranked and several and hit.score >= standing

    # The others of a plural question are read too: one of them is heard when a sentence of
    # it answers as well as the best sentence of those that speak (``_AS_WELL``).
    quiet = {n for n, hit in enumerate(found.hits, 1) if not speaks(n, hit)}
    chosen = [
        (n, hit) for n, hit in enumerate(found.hits, 1) if n not in quiet or (ranked and several)
    ]
    aspect = asked_aspect(own)
    full = bool(_IN_FULL.search(own))  # the first paper's whole abstract
    finder = AspectFinder(bank)
    # Sentences answer what is searched: the question without a request that opens it
    # ("Explain how X works" asks "how X works") or the constraints read out of it.
    asked = found.query.searched or question
    wanted = content_words(asked)
    vector = bank.embedder.query(asked)
    bank.prefetch([hit.paper for _, hit in chosen])
    scored: list[tuple[float, int, Hit, list[tuple[int, str]]]] = []
    for n, hit in chosen:
        sentences, vectors = bank.sentences(hit.paper)
        similarity = vectors @ vector
        marks = []
        for i, sentence in enumerate(sentences):
            words = content_words(sentence)
            overlap = len(wanted & words) / len(wanted) if wanted else 0.0
            marks.append((float(similarity[i]) + 0.5 * overlap, i, sentence))
        marks.sort(reverse=True)
        index = finder.find(hit.paper, aspect) if aspect is not None else None
        if aspect == "limitations":
            # Only the sentence stating a limitation (see aspects.py): a paper whose abstract
            # states none says so, or, past the first, stays silent, rather than quote its
            # design and its gains.
            if index is None and n > 1:
                continue
            said = {} if index is None else _with_referent({index: sentences[index]}, sentences)
        elif full and n == 1:
            said = dict(enumerate(sentences))
        else:
            said = _quotes(asked, sentences, marks, best_paper=n == 1)
            if index is not None:  # the sentence stating the data, result or problem asked
                said = _with_referent({**said, index: sentences[index]}, sentences)
        scored.append((marks[0][0], n, hit, sorted(said.items())))
    top = max(s[0] for s in scored if s[1] not in quiet)
    lines = [EXTRACTED_LABEL, ""]
    if found.query.listing:
        note = listing_note(found) if found.query.tally is None else tally_note(found)
        lines[1:1] = ["", " ".join(filter(None, [average_note(found), note]))]
    shown = []
    for best, n, hit, picked in scored:
        if found.query.listing or numbered:  # listed by metadata, or as many as asked for
            shown.append((n, hit, picked))
            continue
        if n in quiet and best < top - _AS_WELL:
            continue
        if n > 3 and best < top - (_BYSTANDER_GAP if ranked and several else 0.25):
            continue
        side = n == 2 and compared  # the other side of a comparison speaks whatever it says
        if n > 1 and ranked and not several and not side and best < top - _BYSTANDER_GAP:
            continue  # a bystander: its retrieval score passed, but no sentence of it answers
        shown.append((n, hit, picked))
    unordered = order_note(found.query.sort, [hit for _, hit, _ in shown])
    if unordered:
        lines[-1:-1] = ["", unordered]
    for n, hit, picked in shown:
        cited = " ".join(add_marker(sentence, n) for _, sentence in picked) or NOT_STATED.get(
            aspect or "", ""
        )
        dated = found.query.listing_of_one  # "Is MARS from ICLR?", as the parser read it
        asks = found.query.constraints or _ASKS_FACTS.search(own) or dated
        # The listing's own text (authors, venue, categories): its "[2]" cites nothing.
        code = "code" in found.query.filters.present  # "papers with code": where it is
        facts = f" ({inert_markers(_facts(hit, own, code=code, dated=dated))})" if asks else ""
        lines.append(f"- **{inert_markers(hit.paper.title)}**{facts}: {cited}")
    return "\n".join(lines)


def _quotes(
    question: str,
    sentences: Sequence[str],
    marks: Sequence[tuple[float, int, str]],
    *,
    best_paper: bool,
) -> dict[int, str]:
    """The sentences of one abstract to quote, by position; ``marks`` are (score, position,
    sentence) best first.

    The best paper says more: two sentences on the question (the second unless it scores
    ``_SECOND_SENTENCE_GAP`` below the first), its contribution and its finding (four at most),
    and for a "how" question the sentences after its contribution that say how. The others say
    one sentence on the question and their contribution (two at most).
    """
    best = marks[0][0]
    room, cues, most = (2, (_CONTRIBUTION, _FINDING), 4) if best_paper else (1, (_CONTRIBUTION,), 2)
    keep = [
        m for m in marks[:room] if m[0] >= best - _SECOND_SENTENCE_GAP and len(m[2].split()) >= 5
    ]
    said = {i: sentence for _, i, sentence in keep or marks[:1]}
    after = -1  # a finding comes after the contribution (before it: earlier work's)
    contribution = None
    for cue in cues:
        matching = [
            i
            for i, t in enumerate(sentences)
            if i > after
            and cue.search(t)
            and len(t.split()) >= 5
            and (cue is _CONTRIBUTION or i not in said)
        ]
        if cue is _FINDING:  # a finding with figures says more than "outperforms"
            matching.sort(key=lambda i: not _FIGURE.search(sentences[i]))
        if matching:
            after = matching[0]
            if cue is _CONTRIBUTION:
                contribution = after
            if len(said) < most:
                said.setdefault(after, sentences[after])
    if best_paper and contribution is not None and _HOW.match(question):
        # "How does X work?": the sentences that go on from the contribution to say how
        # ("The method consists of two steps. First, ... Second, ...").
        for i in range(contribution + 1, min(contribution + 4, len(sentences))):
            if i > contribution + 1 and not _STEP.match(sentences[i]):
                break
            said.setdefault(i, sentences[i])
    return _with_referent(said, sentences)


def _with_referent(said: dict[int, str], sentences: Sequence[str]) -> dict[int, str]:
    """``said`` with the sentence before each one that points back ("This approximation ...",
    "To address this issue, ..."), which needs it."""
    for i in list(said):
        if i > 0 and i - 1 not in said and _ANAPHOR.match(sentences[i]):
            said[i - 1] = sentences[i - 1]
    return said


#: A link asked for: "link?", "the link to X", "its PDF" (not "a link function").
_LINK = (
    r"(?:\b(?:the|its|a|their|any)\s+(?:link|url|pdf|doi)s?|\b(?:link|url|pdf|doi)s?\s*\?"
    r"|\blinks?\s+to\b|\barxiv\s+(?:ids?|identifiers?|numbers?|links?|pages?|urls?|pdfs?)\b"
    r"|\b(?:link|url)s?\s+(?:for|of)\b)(?!\s+functions?\b)"
)
#: Code asked for: "is there code?", "a GitHub repo", "an implementation".
_CODE = (
    r"\bis\s+there\s+(?:any\s+|some\s+)?code\b|\bgithub\b|\bcode\s+(?:available|released|link)"
    r"|\b(?:the|its|their)\s+(?:code|repo(?:sitory)?|implementation)\b|\bcode\s*\?"
)
#: Where to read a paper or get its code asked for.
_WHERE_TO_READ = rf"\bwhere\s+can\s+i\s+(?:read|find|get)\b|{_LINK}|{_CODE}"
#: A question about a paper's metadata rather than its content: "Who wrote the X paper?",
#: "When was X published?", "Where did it appear?", "How many authors does X have?".
_ASKS_FACTS = re.compile(
    r"\bwho\s+(?:wrote|authored|(?:are|were|is|was)\s+the\s+(?:co-?)?authors?)\b"
    r"|\b(?:authors?|authorship)\s+of\b|\bwho\s+(?:is|was|are|were)\s+behind\b"
    r"|\bwho\s+(?:proposed|introduced|developed|created|invented)\s+(?:it|this|that|them)\b"
    # "Who works on vector quantization?", "which researchers study bandits?": the people
    r"|\bwho\s+(?:works?|worked|(?:is|are|was|were)\s+working|research(?:es|ed)?|stud(?:y|ies|ied)"
    r"|publish(?:es|ed)?)\s+(?:on|about|in)\b|\bwhich\s+(?:researchers|groups|labs|people)\b"
    r"|\bpeer[- ]?reviewed\b"
    r"|\bwhen\s+(?:was|were|did)\b.*\b(?:published|posted|released|appear(?:ed)?|come\s+out)\b"
    r"|\b(?:what|which)\s+(?:year|date|venue|conference|listing)\b"
    # "when?", "and when was it?", "how old is it?" after a paper was named
    r"|^\W*(?:(?:and|so)\s+)?(?:when|how\s+(?:old|recent))(?:\s+(?:was|is|did)\s+(?:it|this|that)"
    r"(?:\s+(?:written|out|come\s+out))?)?\s*[?.!]*\s*$"
    r"|\bwhere\s+(?:was|were|did)\b.*\b(?:published|posted|appear(?:ed)?|presented)\b"
    r"|\bhow\s+many\s+(?:authors|upvotes|votes)\b"
    r"|" + _WHERE_TO_READ,
    re.IGNORECASE,
)
_ASKS_LINK = re.compile(_WHERE_TO_READ, re.IGNORECASE)
_ASKS_CODE = re.compile(_CODE, re.IGNORECASE)


def asks_link(question: str) -> bool:
    """Whether ``question`` asks where to read a paper.

    >>> [asks_link(q) for q in ("What's the arXiv id of SOAP?", "arxiv link for MARS",
    ...     "url for the muon paper", "papers on link prediction", "link functions")]
    [True, True, True, False, False]
    """
    return bool(_ASKS_LINK.search(question))


#: A web address an abstract gives ("Our code is available at https://github.com/...").
_WEB_ADDRESS = re.compile(r"https?://[^\s<>\"'()\[\]{}]+", re.IGNORECASE)


def _facts(hit: Hit, question: str = "", *, code: bool = False, dated: bool = False) -> str:
    """The metadata a metadata question asks about, for the line that names the paper; what
    it asks and the paper's listing does not give is said so ("Who wrote it?": no authors
    listed), not left out. A link is given where the question asks for one or ``code``."""
    paper = hit.paper
    parts = [paper.listed_in]
    if paper.date:
        parts.append(paper.date)
    elif dated or re.search(r"\b(?:when|year|date|dated)\b", question, re.I):
        parts.append("no date given")
    if paper.authors:
        parts.append(", ".join(paper.authors[:6]) + (" et al." if len(paper.authors) > 6 else ""))
    elif author_count(paper) is None and re.search(
        r"\b(?:who|authors?|authored|wrote|researchers|people)\b", question, re.I
    ):
        parts.append("no authors listed")
    count = author_count(paper)
    if count is not None:
        parts.append(counted(count, "author"))
    if paper.upvotes is not None:
        parts.append(counted(paper.upvotes, "upvote"))
    if paper.categories:
        parts.append("; ".join(c.split(" > ")[-1] for c in paper.categories[:3]))
    if code or asks_link(question):
        parts.append(paper.link or "no link given")
        given = [a.rstrip(".,;:") for a in _WEB_ADDRESS.findall(paper.abstract)]
        if given:
            parts.append("its abstract links " + ", ".join(dict.fromkeys(given[:3])))
        if _ASKS_CODE.search(question) and not code_given(paper.abstract):
            parts.append("its abstract gives no code")  # "does it have code?"
    return " · ".join(p for p in parts if p)


#: How an order reads per direction, and the field it sorts by with its article, per key.
_ORDERS = {
    "date": ("newest first", "oldest first", "a", "date"),
    "upvotes": ("most upvoted first", "least upvoted first", "an", "upvote count"),
    "author_count": ("most authors first", "fewest authors first", "an", "author list"),
}


def order_note(sort: Sort | None, hits: Sequence[Hit]) -> str | None:
    """What an ordered answer cannot order, or None: "Newest first; 3 of the 4 papers below
    give no date, so they follow those that do." (most listings give no date)."""
    if sort is None:
        return None
    lacking = sum(sort_value(hit.paper, sort) is None for hit in hits)
    if not lacking:
        return None
    first, last, article, field = _ORDERS[sort.key]
    order = (first if sort.descending else last).capitalize()
    if lacking == len(hits):
        return f"{order} was asked, but none of the papers below gives {article} {field}."
    gives, follows = ("gives", "it follows") if lacking == 1 else ("give", "they follow")
    return (
        f"{order}; {lacking} of the {len(hits)} papers below {gives} no {field}, "
        f"so {follows} those that do."
    )


def _share_of(found: Retrieval, n: int) -> str:
    """``n`` papers as a share of the collection, where the question asks for one: ", 19% of
    the 318 papers in the collection"."""
    if not found.query.share or not found.total:
        return ""
    part = n / found.total
    said = f"{part:.1%}" if 0 < part < 0.01 else f"{part:.0%}"
    return f", {said} of the {counted(found.total, 'paper')} in the collection"


_AVERAGE_GIVES = {
    "authors": ("gives its number of authors", "give their number of authors"),
    "upvotes": ("gives upvotes", "give upvotes"),
}


def average_note(found: Retrieval) -> str | None:
    """A mean asked for, over the papers matching that give the field: "The 20 papers (of 318)
    that list their authors have 4.2 authors on average (median 3, from 1 to 15)."."""
    average = found.average
    if average is None:
        return None
    one, many = _AVERAGE_GIVES[average.field]
    topic = f" mentioning {found.query.mentioned_said}" if found.within else ""
    of = inert_markers(f"{counted(found.matching, 'paper')}{topic}")
    if average.mean is None or average.median is None:
        return f"None of the {of} {one}, so there is no average {average.field[:-1]} count."
    spread = (
        f"median {average.median:g}, from {average.low} to {average.high}"
        if average.low != average.high
        else f"each has {average.high}"
    )
    return (
        f"The {counted(average.giving, 'paper')} (of {of}) that "
        f"{one if average.giving == 1 else many} have {average.mean:.1f} {average.field} on "
        f"average ({spread})."
    )


def listing_note(found: Retrieval) -> str:
    """How many papers a metadata question matched and how many are shown, so that a list is
    never cut without saying so: "12 papers match (venue: ICLR 2026); 5 are listed. ..."."""
    matched = f"{counted(found.matching, 'paper')} {'matches' if found.matching == 1 else 'match'}"
    constraints = found.query.constraints
    why = f" ({'; '.join(constraints)})" if constraints else ""
    why += _share_of(found, found.matching)
    shown = len(found.hits)
    if shown >= found.matching:
        return f"{matched}{why}; {'it is' if shown == 1 else 'all are'} listed."
    sort = found.query.sort
    asked = sort.count if sort is not None and sort.count else found.query.count
    if asked == shown:
        return f"{matched}{why}; the {shown} asked for are listed."
    if sort is not None and sort.place and shown == 1:  # "the second newest paper"
        return f"{matched}{why}; the one in that place is listed."
    if found.tied == 1:
        return f"{matched}{why}; the first is listed."
    if found.tied > 1 and shown == found.tied:
        return f"{matched}{why}; the {shown} that share the first place are listed."
    if found.tied > 1:
        return (
            f"{matched}{why}; {found.tied} share the first place and {shown} are listed (raise "
            "ASSISTANT_RETRIEVAL__LIST_MAX to see the others)."
        )
    return (
        f"{matched}{why}; {shown} are listed. Narrow the question (a year, a venue, an author) "
        "to see the others, or raise ASSISTANT_RETRIEVAL__LIST_MAX."
    )


_PLURALS = {"category": "categories", "listing": "listings or venues"}
_GIVES = {
    "author": "lists its authors",
    "listing": "gives a listing",
    "year": "gives a date",
    "month": "gives a month",
    "category": "gives a category",
    "region": "gives a place",
    "organization": "gives an organization",
}


def _themes_said(found: Retrieval) -> str:
    """The themes of a count that asks for them, in a sentence."""
    if not found.themes:
        return f"They are too few to group into themes ({FEWEST_PAPERS} at least)."
    taken = ""
    if found.grouped < found.counted:
        taken = f" ({found.grouped:,} of the {found.counted:,} papers, taken evenly)"
    named = "; ".join(
        f"{', '.join(inert_markers(word) for word in theme.words) or 'unnamed'} "
        f"({counted(theme.size, 'paper')})"
        for theme in found.themes
    )
    return (
        f"Grouped by meaning{taken}, they fall into {len(found.themes)} themes, {NAMED_BY}{named}."
    )


def tally_note(found: Retrieval) -> str:
    """What a count of papers per value found, in a line above the papers of the values it
    names: "Authors with the most papers (of the 214 papers that give one): Ana Li (3 papers),
    Bo Wu (3 papers). Their papers (5) are listed." The names are the papers' own text, with
    any citation marker in them made inert."""
    tally = found.query.tally
    assert tally is not None
    said = [r for r in found.query.constraints if not r.startswith(("count:", "mentioning:"))]
    stated = f" ({'; '.join(said)})" if said else ""  # "Which author has the most 2025 papers?"
    # "Which venue has the most papers on diffusion?"
    topic = f" mentioning {found.query.mentioned_said}" if found.within else ""
    within = inert_markers(topic + stated)
    if not found.counts:
        them = "they are" if found.matching > 1 else "it is"
        return (
            f"Of the {counted(found.matching, 'paper')}{within}, none {_GIVES[tally.key]}, so "
            f"there is nothing to count; {them} listed."
        )
    shown = [f"{inert_markers(name)} ({counted(n, 'paper')})" for name, n in found.counts[:12]]
    if len(found.counts) > 12:
        shown.append(f"and {len(found.counts) - 12} more")
    give = "gives" if found.counted == 1 else "give"
    over = f"of the {counted(found.counted, 'paper')}{within} that {give} one"
    if found.within > found.counted:  # "of the 60 papers mentioning 'X', the 12 that give one"
        over = f"of the {counted(found.within, 'paper')}{within}, the {found.counted} that "
        over += f"{give} one"
    values = f"({over}): {', '.join(shown)}."
    top = max(n for _, n in found.counts)
    whose = "Their papers"
    if tally.mode == "total":
        several = (
            " (a paper may be in several)"
            if sum(n for _, n in found.counts) > found.counted
            else ""
        )
        held = f"The collection holds {counted(found.counted, 'paper')}"
        if tally.themes and stated:  # "What topics do the ICLR 2026 papers cover?"
            held = inert_markers(f"{counted(found.counted, 'paper')} match{stated}")
        if found.within:  # "How many papers are about pruning?"
            mention = "mentions" if found.within == 1 else "mention"
            said_of = f"{counted(found.within, 'paper')} {mention} {found.query.mentioned_said}"
            held = inert_markers(said_of + stated) + _share_of(found, found.within)
        head = f"{held}; per listing{several}: {', '.join(shown)}."
        whose = "The newest"
        if tally.themes:
            head += " " + _themes_said(found)
            if found.themes:
                return f"{head} The most typical paper of each theme is listed, in that order."
    elif tally.mode == "each":
        head = f"Papers per {tally.key} {values}"
        if tally.values:  # "How many authors are there?": "97 authors (of the 20 papers ...)"
            head = f"{tally.noun(len(found.counts))} {values}"
        whose = f"The papers of {inert_markers(max(found.counts, key=lambda c: c[1])[0])}"
    elif tally.mode == "at_least" and top < tally.least:
        head = (
            f"No {tally.key} has {tally.least} papers or more; the most any has is {top} {values}"
        )
    elif top == 1 and len(found.counts) > 1 and tally.mode != "fewest":
        head = f"No {tally.key} has more than one paper {values}"
    else:
        which = {"most": "the most", "fewest": "the fewest"}.get(
            tally.mode, f"at least {tally.least}"
        )
        plural = _PLURALS.get(tally.key, tally.key + "s")
        head = f"{plural.capitalize()} with {which} papers {values}"
    listed = len(found.hits)
    if listed >= found.matching:
        return f"{head} {whose} ({listed}) are listed."
    return f"{head} {whose}: {listed} of {found.matching} are listed."
