"""Question -> Query: metadata constraints stated in prose (authors, dates, venue, counts, sorts).

Rule-based and collection-aware: names, venues and categories are recognised only when the
collection has them (or when the question says plainly "papers by X"), so ordinary topic words
are never mistaken for metadata. What is left after the constraints is the topic to search for.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import importlib.resources
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal, Protocol, cast

from pydantic import BaseModel, ConfigDict, Field

from assistant.bibliography import doi_of
from assistant.records import (
    MONTHS,
    Filters,
    Paper,
    author_count,
    date_key,
    fold,
    iso_date,
    plural_pattern,
    singular,
    title_name,
)

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_YEAR = r"(?:19|20)\d\d"
_DATE = (
    rf"(?:(?P<{{p}}m>{_MONTH})\.?,?\s+)?(?P<{{p}}y>{_YEAR})"
    r"(?:-(?P<{p}mm>[01]\d)(?:-(?P<{p}dd>[0-3]\d))?)?"
)
_NUMBERS = {
    "no": 0,
    "zero": 0,
    "one": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a dozen": 12,
}
_COUNT = r"(?P<n>\d+|" + "|".join(_NUMBERS) + r")"
#: A count of a few, in digits or words ("3", "three").
FEW = r"(?:\d{1,2}|" + "|".join(_NUMBERS) + r")"
_COUNT_LOW = _COUNT.replace("<n>", "<a>")  # the first of two counts ("between 3 and 5")
#: A count too small to be a year.
_FEW = rf"(?P<n>{FEW})\b"
_MORE = r"(?:more than|over|above|greater than)"
_LESS = r"(?:fewer than|less than|under|below)"
_LEAST = r"(?:at least|or more)"
_MOST = r"(?:at most|no more than|or fewer|or less)"
_CMP = rf"(?P<cmp>{_MORE}|{_LESS}|{_LEAST}|{_MOST}|exactly|only)?\s*"

# Words that frame a metadata question without being its topic.
_SCAFFOLD_WORDS = """
    which what who whose where when why how many much is are was were do does did the a an of in
    on at to for from with by and or as among any all list lists listed listing collection papers
    paper article articles work works publication publications daily posted published dated date
    tagged tag category categories categorised categorized author authors authored co-authored
    coauthored written wrote has have having had there their that this these those than more
    most fewest least number largest highest biggest smallest lowest upvote upvotes upvoted
    votes popular recent newest latest oldest earliest before after since between during
    until single solo sole one only about show me give find me name names appear appears page
    include includes including contain contains subject field area topic sorted order
    co-author coauthor co-written cowritten co-wrote co-write what's who's that's write writes
    people persons researchers writers together jointly team teams contribute produce
    them ones
    receive earn present accept release feature submit upload announce come came out show share
    index get publish post tag fall falls under belong belongs file filed classify classified
    found either both everything anything something but also
    hi hey hello thanks thank thx please cheers kindly you
    label labelled labeled say says said tell told discuss discusses study studies report mention
    got go went put make made know known see seen can could would should will may might be been
    being year years month months day days week weeks time venue venues conference listed
    propose introduce submission submissions entry entries item items carry deal concern
    address cover focus tackle explore examine investigate consider describe university
    universities institution institutions institute institutes lab labs affiliated based located
    use apply applies employ leverage here corpus library new doi id identifier summarize
    summarise summary explain stuff title titles just
    else worked working collaborate collaborated collaborates collaborating collaborator
    collaborators coauthors co-authors colleagues
    its organization organizations organisation organisations affiliation affiliations into
    happen occur
    """
_SCAFFOLD = frozenset(_SCAFFOLD_WORDS.split())


def _initials(venue: str) -> list[str]:
    """The initials of each run of two or more capitalised words of ``venue``, lower case.

    >>> _initials("arXiv.org Machine Learning"), _initials("ICLR 2026")
    (['ml'], [])
    >>> _initials("Hugging Face Daily Papers")
    ['hfdp', 'hfd', 'hf', 'fdp', 'fd', 'dp']
    """
    words = re.findall(r"[A-Za-z]+", venue)
    found: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if word[:1].isupper() and not word.isupper():
            run.append(word[0].lower())
            continue
        found += ["".join(run[i:j]) for i in range(len(run)) for j in range(len(run), i + 1, -1)]
        run = []
    return found


def subject_of(topic: str) -> str:
    """The words of ``topic`` beyond the frame of a metadata question, as written.

    >>> subject_of("Which has the most papers on LLM pruning?")
    'LLM pruning'
    >>> subject_of("Which papers were written by large teams (10+ authors)?")
    ''
    """
    words = re.findall(_WORD.pattern, topic, re.I)
    framing = _framing(words)
    return " ".join(w.rstrip(".") for w, framed in zip(words, framing, strict=True) if not framed)


def _framing(words: Sequence[str]) -> list[bool]:
    """Whether each of ``words`` frames a metadata question: a scaffold word, or a size of
    team ("large teams" says how many authors, as "teams" does)."""
    sized = {i for i, w in enumerate(words[:-1]) if _SIZED_TEAM.fullmatch(f"{w} {words[i + 1]}")}
    return [_scaffold(w.lower()) or i in sized for i, w in enumerate(words)]


_SIZED_TEAM = re.compile(r"(?:large|big|small|huge|bigger|larger|smaller)\s+teams?", re.I)


def subject_parts(topic: str) -> list[list[str]]:
    """The phrases of ``topic``'s subject a paper must mention to be about it: its words
    beyond the frame, split where a frame word parts them ("reinforcement learning for LLMs"
    is about both) but for "of" between two of them ("mixture of experts"); where "or" parts
    them, each side is one way to be about it.

    >>> subject_parts("How many papers are about reinforcement learning for LLMs?")
    [['reinforcement learning', 'LLMs']]
    >>> [subject_parts(q) for q in ("papers on LLM pruning?", "papers on mixtures of experts")]
    [[['LLM pruning']], [['mixtures of experts']]]
    >>> subject_parts("How many papers are on pruning or quantization?")
    [['pruning'], ['quantization']]
    >>> subject_parts("How many papers by large teams are about pruning?")
    [['pruning']]
    """
    words = [w.rstrip(".") for w in re.findall(_WORD.pattern, topic, re.I)]
    framing = _framing(words)
    sides: list[list[list[str]]] = [[[]]]
    for i, word in enumerate(words):
        parts = sides[-1]
        joins = word.lower() == "of" and i + 1 < len(words) and not framing[i + 1]
        if not framing[i] or (joins and parts[-1]):
            parts[-1].append(word)
        elif word.lower() == "or" and parts[-1]:
            sides.append([[]])
        elif parts[-1]:
            parts.append([])
    found = [[" ".join(part) for part in parts if part] for parts in sides]
    return [parts for parts in found if parts]


def said_parts(sides: list[list[str]], quote: str = "'") -> str:
    """Phrases of subject_parts as an answer says them.

    >>> said_parts([["RL", "LLMs"], ["pruning"]])
    "'RL' and 'LLMs' or 'pruning'"
    """
    return " or ".join(" and ".join(f"{quote}{p}{quote}" for p in parts) for parts in sides)


#: Words after a topic that do not change it: "health-related", "neurology papers".
_CATEGORY_SUFFIXES = frozenset({"related", "paper", "papers", "work", "works", "research"})


def _singular_words(folded: str) -> str:
    return " ".join(singular(w) for w in folded.split())


def _scaffold(word: str) -> bool:
    """True for a word that frames a metadata question, in any of its forms ("appeared",
    "presenting", "releases")."""
    word = word.rstrip(".'-+")  # "papers." at the end of a sentence
    if not word or word in _SCAFFOLD or word.isdigit():
        return True
    for suffix, restore in (
        ("ing", ""),
        ("ing", "e"),
        ("ed", ""),
        ("ed", "e"),
        ("d", ""),
        ("ies", "y"),  # "carries"
        ("s", ""),
    ):
        if word.endswith(suffix) and word[: -len(suffix)] + restore in _SCAFFOLD:
            return True
    return False


class Taker(Protocol):
    """Records a recognised span and its label (and the value read, where the span's words
    are not it: "from africa or asia" filters by Asia alone)."""

    def __call__(self, match: re.Match[str], label: str, said: str | None = None) -> None: ...


_WORD = re.compile(r"[^\W_](?:[^\W_]|['+.-])*")


# A request that opens a question without being its topic: "Find me papers on X", "I'm looking
# for work about X", "Tell me about X", "Could you list research on X?", "What's known about X".
# Its words are common in abstracts ("we show", "we find"), so left in they pull BM25 and the
# dense vector toward papers that say them, and dilute the question's term share.
_ASKER = (
    r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|please\s+"
    r"|i\s+(?:would|'d)\s+like\s+(?:you\s+)?to\s+)?"
)
_VERB = (
    r"(?:give\s+me\s+an?\s+(?:overview|summary|rundown)\s+of|tell\s+me(?:\s+more)?\s+about|"
    r"teach\s+me\s+about|point\s+me\s+to|search\s+for|look\s+for|look\s+up|pull\s+up|"
    r"help\s+me\s+(?:to\s+)?find|"
    r"find|show|list|give|get|fetch|recommend|suggest|name|explain(?!\s+like\b)|describe|summari[sz]e)"
)
#: "recent" before them asks for no order ("What do recent papers say about X?"), and is no topic;
#: nor is a word of praise ("the best papers on X", "the top 3 papers about RLHF": they had been
#: searched, and the question left uncertain).
_GOOD = r"(?:top|best|key|good|great|notable|important|relevant|main|major)"
_WORKS = (
    rf"(?:(?:recent\s+|(?:most\s+)?{_GOOD}\s+)?"
    r"(?:papers?|works?|research|articles?|studies|literature|publications?))"
)
_NEW_OR_OLD = r"(?:newest|latest|most recent|recent|oldest|earliest)"
#: What follows "the newest" when it orders papers: what they are called (up to three words
#: after it), "one(s)", "on" ("the latest on X"), or nothing more than the question's end.
_NOT_TO = r"(?<!\bto )(?<!\bto the )"  # "from oldest to newest" is an order clause
_ORDER_NOUN = rf" (?:[\w.-]+ ){{0,3}}(?:{_WORKS}|daily)\b| (?:ones?|on)\b|\s*[?.!]*\s*$"
#: An order asked by the field it sorts on: "sort them by ...", "ranked by ...".
_SORT_BY = (
    r"\b(?P<by>sort(?:ed)?|order(?:ed)?|rank(?:ed)?|list(?:ed)?|arranged?)\s+"
    # "rank the ICLR 2026 papers by ...": a constraint's words may stand between
    # ... or "papers" alone: "rank papers by number of authors" had been left unsorted
    r"(?:(?:them|it|these|those|(?:the\s+(?:[\w.-]+\s+){0,4}?)?papers|the\s+list)\s+)?by\s+"
)
_SORT_ASCENDING = (
    r"\b(?:\s*[,(]?\s*(?P<ascending>ascending|(?:fewest|least|smallest|lowest)\s+first)\)?)?"
)
_ORDER_CLAUSE = re.compile(
    r"[,;:(]?\s*(?P<said>(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?|list(?:ed)?|arranged?)\s+"
    r"(?:them\s+|it\s+|(?:the\s+)?papers\s+)?by\s+(?:(?:publication|release)\s+)?"
    r"(?:date|year|recency|time)"
    rf"(?:\s*[,(]?\s*(?P<then>{_NEW_OR_OLD}) (?:ones? )?first(?![-\w])\)?)?"
    rf"|(?P<first>{_NEW_OR_OLD}) (?:ones? )?first(?![-\w])"
    rf"|from (?:the )?(?P<from>{_NEW_OR_OLD}|old|new) to (?:the )?(?:{_NEW_OR_OLD}|old|new)"
    r"|(?:in )?(?:reverse )?chronological(?:ly| order)?)\)?"
)
#: A greeting before a question ("Hi! ...", "Hey there, ...") and thanks after it.
_GREETING = (
    r"(?:(?:hi|hey|hello|good\s+(?:morning|afternoon|evening))(?:\s+there)?\s*[,!.:;-]*\s*)?"
)
_THANKS = re.compile(
    r"[\s,;.!-]*\b(?:(?:many\s+)?thanks(?:\s+(?:a\s+lot|in\s+advance))?|thank\s+you|thx|"
    r"please|pls|plz|cheers)[\s.!?]*$",
    re.IGNORECASE,
)
#: A message that asks nothing of the papers: a greeting, thanks, or what the assistant does.
_SOCIAL = re.compile(
    r"^\W*(?:(?:(?P<hello>hi|hey|hello|hiya|good\s+(?:morning|afternoon|evening))"
    r"|(?P<thanks>(?:many\s+)?thanks|thank\s+you|thx|ty|cheers|great|perfect|cool|nice|ok(?:ay)?"
    r"|got\s+it|awesome|(?:that's|that\s+is)\s+(?:great|helpful|perfect))"
    r"|(?P<help>help|what\s+(?:can|do)\s+you\s+do|how\s+do\s+i\s+use\s+(?:you|this|it)"
    r"|who\s+are\s+you|what\s+are\s+you)"
    # the assistant itself asked about: "how do I add my own papers?", "which model are you?"
    r"|(?P<usage>(?:how\s+(?:do|can|could|should)\s+i|can\s+i|could\s+i|may\s+i)\s+(?:add"
    r"|upload|import|ingest|load|use)\s+(?:my\s+own\s+|my\s+|more\s+|new\s+|other\s+)?(?:papers?"
    r"|files?|pdfs?|bibtex|ris|csv|jsonl|collection|library|references?|a\s+\w+\s+file)"
    r"(?:\s+\w+){0,3}|(?:which|what)\s+(?:language\s+)?(?:model|llm)\s+(?:are\s+you|is\s+this"
    r"|do\s+you\s+use|are\s+you\s+using|answers|is\s+answering|is\s+used)|are\s+you\s+(?:chat\s*gpt"
    r"|gpt(?:-?\d)?|an?\s+(?:llm|ai|language\s+model)))"
    r"|there|so\s+much|a\s+lot|very\s+much|again|please)\b[\s,;:!.?-]*)+$",
    re.IGNORECASE,
)


def social(text: str) -> str | None:
    """What a message that asks nothing of the papers says instead: "help" ("what can you
    do?"), "thanks" ("ok, thanks!"), "hello" or "usage"; else None.

    >>> [social(t) for t in ("Hi!", "ok thanks a lot!", "What can you do?", "hi, what is SOAP?")]
    ['hello', 'thanks', 'help', None]

    ... or "usage", of the assistant itself:

    >>> [social(t) for t in ("how do I add my own papers?", "can I upload a BibTeX file?",
    ...     "which model are you?", "How can I use transformers for tabular data?",
    ...     "How do I load data efficiently for training?")]
    ['usage', 'usage', 'usage', None, None]
    """
    match = _SOCIAL.match(text)
    if match is None:
        return None
    return next((kind for kind in ("usage", "help", "thanks", "hello") if match[kind]), None)


#: Who the answer is for, said after the topic ("explain Muon like I'm five", "SOAP in simple
#: terms", "the rotation trick for a beginner"): no topic. Searched, "explain muon like im 5"
#: had been refused.
_AUDIENCE = re.compile(
    r"\s*,?\s+(?:like\s+(?:i(?:'?m|\s+am)|to)\s+(?:an?\s+)?(?:five|5|\d+[- ]?years?[- ]?old|child"
    r"|kid|beginner|newbie|layman)|in\s+(?:simple|plain|layman'?s?|easy|non-?technical)\s+(?:terms"
    r"|english|words|language)|for\s+(?:an?\s+)?(?:beginners?|non-?experts?|dummies|newcomers?"
    r"|layperson|laymen|lay\s+audience|5[- ]?year[- ]?olds?|kids?|children))(?=\W*$)",
    re.IGNORECASE,
)
#: Where the papers are, said of the collection itself ("... in this collection", "... here"):
#: no topic.
_SCOPE = re.compile(
    r"\s+(?:in|from|within|among)\s+(?:this|the|your|my)\s+"
    r"(?:collection|corpus|library|database|store|index)\b|\s+here(?=\W*$)"
    # "How is conformal prediction used in these papers?"
    r"|\s+(?:in|from|within|among|across)\s+(?:these|the|all\s+the|all\s+these)\s+(?:papers"
    r"|abstracts)(?=\W*$)",
    re.IGNORECASE,
)
_SOME = r"(?:(?:some|any)\s+)?"
#: A summary asked for: "tl;dr of X", "what's the gist of X", "key takeaways from X", "ELI5 X",
#: "the main idea of X" (also after another request: "Explain the main idea of Muon").
_SUMMARY = (
    r"(?:(?:what|which)(?:'s|s|\s+is|\s+are)\s+)?(?:the\s+)?(?:tl;?\s*dr|gist|eli5|"
    r"explain\s+like\s+i(?:'?m|\s+am)\s+(?:five|5)|bottom\s+line|(?:key|main)\s+(?:takeaways?|points|"
    r"ideas?|findings?|contributions?)|short\s+(?:version|summary)|(?:full\s+)?abstract(?=\s+(?:of"
    r"|for)\s)|contributions?(?=\s+(?:of|for)\s)"
    # ... or where to read it: "the link to the Muon paper", "the URL for SOAP"
    r"|(?:url|link|web\s*page|pdf|doi|arxiv\s+(?:id|link|page))(?=\s+(?:of|for|to)\s))"
    r"(?:\s+(?:from|of|on|for|to))?"
)
_SUMMARY_AFTER = re.compile(rf"{_SUMMARY}\s+", re.IGNORECASE)
#: ... said after what it is of, a name of a few words: "swivel summary", "muon tldr", "the
#: rotation trick explained" (searched, "summary" had left "swivel summary" uncertain).
_SUMMARY_LAST = re.compile(
    r"^(?P<of>\W*(?:[\w'.-]+\s+){0,4}[\w'.-]+)[\s,:-]+(?:tl;?\s*dr|summary|overview|explained"
    r"|eli5|in\s+(?:a\s+)?nutshell|gist|key\s+(?:takeaways?|points|ideas?)|main\s+idea"
    r"|(?:full\s+)?abstract(?:\s+(?:pl[sz]|please))?)\W*$",
    re.IGNORECASE,
)
#: Where a follow-up's own words end: the message's end, or the earlier turns it is searched
#: with (" (about: ...)", "; ..." between them, ")" after the last).
_OWN_END = r"\s*[?.!]*\s*(?:$|[;)]|\(about:)"
#: The paper's arXiv link or id asked for of the paper just discussed, its words no topic:
#: "what's the arxiv link? (about: ...)", also among the earlier questions a follow-up carries
#: (searched, "arXiv" had been a name that no paper found says).
_LINK_ASKED = re.compile(
    r"(?:^|(?<=; ))\W*(?:(?:what(?:'s|\s+is)|give\s+me|show\s+me)\s+)?(?:the\s+|its\s+)?"
    rf"arxiv\s+(?:ids?|identifiers?|links?|pages?|urls?|numbers?)\s*(?={_OWN_END})",
    re.IGNORECASE,
)
#: What a summary is of where it is a topic: "abstractive text summary", "video overview".
_SUMMARIZED = re.compile(
    r"\b(?:text|document|abstractive|extractive|video|news|meeting|code|graph|dialogue)\W*$",
    re.IGNORECASE,
)
#: What papers asked after do with a topic, no topic's word: "Do any papers use X?", "papers
#: that discuss X".
_DOING = (
    r"(?:use|uses|apply|applies|mention|mentions|discuss|discusses|stud(?:y|ies)|investigate"
    r"|investigates|examine|examines|explore|explores|address|addresses|cover|covers)"
)
_REQUEST = re.compile(
    rf"^\s*{_GREETING}(?:"
    rf"{_ASKER}{_VERB}(?:\s+me)?(?:\s+(?:some|any|all|the)?\s*{_WORKS})?"
    rf"|i\s*(?:'m|\s+am)\s+(?:looking|searching)\s+for(?:\s+(?:some|any)?\s*{_WORKS})?"
    # "I'm working on X", "we work on X", "I'm researching X": what the asker works on, before
    # a request with no topic of its own ("...; what should I read?")
    r"|(?:i|we)\s*(?:'m|'re|\s+am|\s+are)?\s+(?:working|focusing|focused|work)\s+on"
    r"|(?:i|we)\s*(?:'m|'re|\s+am|\s+are)\s+(?:researching|studying|investigating|exploring)"
    r"|(?:i|we)\s*(?:'m|'re|\s+am|\s+are)\s+writing\s+(?:a|an|my|our)\s+(?:survey|review|paper"
    r"|thesis|report|related[- ]work\s+section)\s+(?:on|about|of)"
    # "I'm interested in X" (its "in" is taken as a request's "about" is, below)
    r"|i\s*(?:'m|\s+am)\s+(?:(?:really|very|most|mostly)\s+)?(?:interested|curious)"
    rf"|i\s+(?:need|want)(?:\s+to\s+(?:find|read|see))?(?:\s+(?:some|any)?\s*{_WORKS})?"
    rf"|i\s+(?:was|am|'m)\s+wondering\s+(?:if|whether)\s+(?:there\s+(?:are|is)\s+)?"
    rf"(?:{_SOME}{_WORKS}|anything|something)"
    rf"|(?:do\s+(?:you|we)\s+have|have\s+you\s+got|does\s+(?:the|this|your)\s+collection\s+"
    rf"(?:have|hold|contain|include))\s+(?:{_SOME}{_WORKS}|anything|something)"
    rf"|(?:what\s+is|what's|whats|what\s+do\s+we)\s+(?:known|know|the\s+(?:literature|research))"
    rf"|(?:are\s+there\s+|is\s+there\s+)?any\s+{_WORKS}"
    rf"|(?:are|is)\s+there\s+(?:{_SOME}{_WORKS}|something|an?\s+(?:paper|study|article|work))"
    rf"|(?:is\s+there\s+)?anything"
    # "Does any paper evaluate on X?", "Has anyone combined X with Y?"
    rf"|(?:does|do|did|has|have)\s+(?:(?:any|some)\s+{_WORKS}|any(?:one|body)|someone)"
    rf"(?:\s+{_DOING}(?=\s))?"
    rf"|(?:(?:what|which)(?:'s|s|\s+is|\s+are|\s+was|\s+were)?\s+)?the\s+{_WORKS}"
    rf"|(?:what|which)\s+(?:are|were)\s+(?:some\s+)?{_WORKS}(?=\s+(?:on|about|regarding)\b)"
    rf"|what\s+do(?:es)?\s+(?:the\s+)?{_WORKS}\s+say(?=\s+(?:on|about|regarding)\b)"
    # "Which papers study grokking?", "which papers mention X": papers asked for by a verb
    rf"|(?:which|what)\s+{_WORKS}\s+(?:mention|discuss|stud(?:y|ies)|investigate|examine"
    r"|explore|address|cover|fix|improve|solve|tackle|handle|propose|introduce|present)(?:e?s)?"
    r"(?=\s)"
    # what is left of "what's the latest on X" once its order is read
    rf"|(?:what|which)(?:'s|s|\s+is|\s+are)\s+the(?=\s+(?:on|about)\s)"
    rf"|{_WORKS}"
    rf"|{_SUMMARY}"
    rf")(?:\s*[:,]?\s+|$)(?:(?:that|which)\s+(?:are\s+|is\s+|{_DOING}\s+)?)?"
    # (the "in" of "in-context" is a word of the topic)
    rf"(?:(?:on|about|regarding|concerning|covering|dealing\s+with|related\s+to|for|of|in)"
    rf"(?![\w-]))?\s*",
    re.IGNORECASE,
)


#: The words a request is made of around its topic, beyond the phrasings ``_REQUEST`` knows:
#: "What can you tell me about X", "Any good reads on X", "Where should I start if I want to
#: learn about X", "What have people done on X". A run of them from the start up to a lower-case
#: "about" or "on" is no topic (nor is one up to "understand", "in" after "new" or "the art",
#: "for" after "looking", "of" after "overview", or "with" after "deal"). Listed, not guessed: a
#: run that meets any other word is left whole.
_FRAME_WORDS_TEXT = """
    i i'm im i'd id i've me my you your we us our people someone anyone somebody anybody folks
    it this these that there here what what's whats which where how who is are was were be been
    am do does did have has had got get can could would will should may might tell show give
    find list point walk help recommend suggest need want like looking look searching search
    read reads reading know known say says said done start begin going happening out anything
    something everything all some any good best great useful decent few couple a an the to for
    of through up more first please just really also if paper papers work works research article
    articles literature publication publications reference references overview summary rundown
    introduction intro resources material materials stuff collection library summarise summarize
    new state art deal talk talks from two three four five six seven eight nine ten
    recent latest advances advance progress developments development trends made
    open unsolved remaining problems questions challenges
    """
_FRAME_WORDS = frozenset(_FRAME_WORDS_TEXT.split())
_FRAME_ENDS = frozenset({"about", "on", "regarding", "concerning", "understand"})
_FRAME_AFTER = {
    # "what are recent advances in X", "latest developments in X", "open problems in X"
    "in": (
        *("new", "art", "done", "advances", "advance", "progress", "developments", "trends"),
        *("problems", "questions", "challenges"),
    ),
    "for": ("looking", "searching"),
    "of": ("overview", "summary", "rundown", "introduction", "intro"),
    "with": ("deal",),  # "what's the deal with X"
}
#: A request that closes the question instead: "..., where do I start?", "... according to
#: these papers", "... research" (the topic's field, said of the papers).
_FRAME_TAIL = re.compile(
    r"(?:[,;.:]?\s*(?:where|what)\s+(?:do|should|can|would)\s+(?:i|we)\s+"
    r"(?:start|begin|read(?:\s+first)?|cite)"
    # "... Which papers in the collection are related?", "what work is relevant?"
    r"|[,;.:]?\s*(?:which|what)\s+(?:papers?|work)\s+(?:(?:in|from)\s+(?:the|this|your)\s+"
    r"(?:collection|library)\s+)?(?:are|is|would\s+be|might\s+be)\s+(?:related|relevant|similar)"
    # "..., any recommendations?", "... What do you suggest?"
    r"|[,;.]?\s*(?:any|some)\s+(?:recommendations?|suggestions?|pointers?|tips|advice)"
    r"|[,;.]?\s*what\s+(?:do|would|can)\s+you\s+(?:recommend|suggest)"
    r"|\s+according\s+to\s+(?:these|the|this|your)\s+(?:papers|collection|library|abstracts)"
    r"|(?<=\w)\s+(?:papers|research|literature))(?=[\s?.!]*$)",
    re.IGNORECASE,
)


def _without_frame(text: str) -> str:
    """``text`` without a run of request words that opens it (see ``_FRAME_WORDS``) and one that
    closes it, or as it is when they are all it has.

    >>> _without_frame("What can you tell me about prior-data fitted networks?")
    'prior-data fitted networks?'
    >>> _without_frame("Which paper should I read to understand the edge of stability?")
    'the edge of stability?'
    >>> _without_frame("What is On Sequential Bayesian Inference about?")
    'What is On Sequential Bayesian Inference about?'
    >>> _without_frame("How does learning on graphs work?")
    'How does learning on graphs work?'
    >>> _without_frame("I want to understand vector quantization, where do I start?")
    'vector quantization?'
    >>> [_without_frame(q) for q in ("What are recent advances in RLHF?",
    ...     "What progress has been made on RLHF?", "latest developments in model merging")]
    ['RLHF?', 'RLHF?', 'model merging']
    >>> [_without_frame(q) for q in ("What are the open problems in reinforcement learning?",
    ...     "open questions in diffusion models", "What problems does FOSTER solve?")]
    ['reinforcement learning?', 'diffusion models', 'What problems does FOSTER solve?']
    """
    tail = _FRAME_TAIL.search(text)
    rest = text[: tail.start()] + text[tail.end() :] if tail else text
    previous = ""
    for word in re.finditer(r"[\w'\u2019-]+", rest):
        token = word.group().lower().replace("\u2019", "'")
        if (
            previous
            and word.group().islower()
            and (token in _FRAME_ENDS or previous in _FRAME_AFTER.get(token, ()))
        ):
            topic = rest[word.end() :].lstrip()
            return topic if re.search(r"\w", topic) else text
        if token not in _FRAME_WORDS and not (
            token in ("learn", "learning") and re.match(r"\s+about\b", rest[word.end() :])
        ):
            break
        previous = token
    return rest if re.search(r"\w", rest) else text


#: Where a sentence may end: a stop, "!" or ";" before a capital, or ":", unless the word before
#: it is an abbreviation or an initial ("St. Lawrence", "Michael S. Albergo", "Song et al.").
_SENTENCE_END = re.compile(r"[.!;]\s+(?=[\"'(\u201c]?[A-Z])|:\s+")
_ABBREVIATIONS = frozenset(
    {
        "st",
        "dr",
        "mr",
        "ms",
        "mrs",
        "prof",
        "al",
        "vs",
        "etc",
        "fig",
        "eq",
        "no",
        "cf",
        "e.g",
        "i.e",
    }
)
_ASKING = re.compile(
    r"\s*(?:which|whats|what|hows|how|why|who|whom|whose|when|where|is|are|was|were|do|does|"
    r"did|can|could|should|would|will|has|have|any)\b",
    re.IGNORECASE,
)


def asks(text: str) -> bool:
    """Whether ``text`` opens as a question does ("Which ...", "How ...", "Is ...")."""
    return _ASKING.match(text) is not None


#: A question asking for papers in the plural ("Which papers ...?", "bandit papers pls").
_SEVERAL = re.compile(
    r"\b(?:which|what|any|list|find|show|name)\s+(?:\w+\s+){0,2}(?:papers|works|articles)\b"
    r"|\bpapers\s+(?:that|which|on|about|where|using)\b"
    # ... as people chat: "bandit papers pls", "anything on conformal risk control?", "stuff
    # about merging", "what's out there on steering", "how do people fix codebook collapse"
    r"|^\W*(?:\S+\s+){1,3}papers\W*(?:pl[sz]|please)?\W*$"
    r"|\b(?:anything|stuff|everything|research|literature)\s+(?:on|about|regarding)\b"
    r"|^\W*(?:any\s+|some\s+)?work\s+(?:on|about)\b"
    r"|\bwhat(?:'s|\s+is)\s+out\s+there\b|\bhow\s+do\s+(?:people|researchers|folks)\b",
    re.IGNORECASE,
)


def asks_for_papers(text: str) -> bool:
    """Whether ``text`` asks for papers in the plural, the way people ask or chat.

    >>> [asks_for_papers(q) for q in ("Which papers prune LLMs?", "bandit papers pls",
    ...     "how do people fix codebook collapse", "Which paper introduced SOAP?")]
    [True, True, True, False]
    """
    return _SEVERAL.search(text) is not None


def without_preamble(text: str) -> str:
    """The question ``text`` asks, without the statements before it that set its scene, or
    ``text`` as it is when it has none. The scene's words ("My team trains large models and
    we keep seeing loss spikes.") put a paper on them first; a name in it ("a PhD student")
    is not what is asked about.

    >>> without_preamble("I run a lab with little compute. Is there a way to reuse prompts?")
    'Is there a way to reuse prompts?'
    >>> without_preamble("Quick question from a PhD student: which paper studies bandits?")
    'which paper studies bandits?'
    >>> without_preamble("How is call recognition made robust in the St. Lawrence Estuary?")
    'How is call recognition made robust in the St. Lawrence Estuary?'
    >>> without_preamble("What is Tree-OPO: Off-policy Advantage Optimization about?")
    'What is Tree-OPO: Off-policy Advantage Optimization about?'
    >>> without_preamble("SOAP vs MARS: how do they use Adam?")
    'SOAP vs MARS: how do they use Adam?'
    >>> without_preamble("We train VQ-VAEs and half the codebook is dead. Any papers that help?")
    'We train VQ-VAEs and half the codebook is dead'
    """
    if "?" not in text:
        return text
    for match in _SENTENCE_END.finditer(text):
        before = text[: match.start()]
        last = before.split()[-1].lower() if before.strip() else ""
        if last in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last):
            continue
        if "?" in before or _ASKING.match(before):
            return text  # it asks from its first sentence on
        rest = text[match.end() :]
        spaced = f" {rest}"
        request = _FRAME_TAIL.match(spaced)
        if request is not None and not re.search(r"\w", spaced[request.end() :]):
            return text  # "I work on X. What should I read?": the statement is the topic
        if _ASKING.match(rest) and all(
            w in _FRAME_WORDS or w in _ASKING_ONLY for w in re.findall(r"[\w']+", rest.lower())
        ):
            # "We train VQ-VAEs and half the codebook is dead. Any papers that help?": a
            # request with no topic of its own asks about the statements before it.
            return before
        if _ASKING.match(rest) and len(rest.split()) >= 4:
            # ... unless it asks of what the statements name ("Ra-DPO vs TOPR: how do they
            # keep the policy close?"): they are its subject, not its scene.
            return text if _REFERS_BACK.search(rest) else rest
    return text


#: Words of a request for papers beyond ``_FRAME_WORDS``: "Which papers should I include?",
#: "What's relevant here?".
_ASKING_ONLY = frozenset(
    {
        "include",
        "cite",
        "helps",
        "relevant",
        "related",
        "similar",
        "worth",
        "check",
        "matter",
        "matters",
    }
)
#: Words of a question that point back to things named before it.
_REFERS_BACK = re.compile(r"\b(?:they|them|their|both|these|those|the\s+two)\b", re.IGNORECASE)


#: Things asked for by what the papers do with them: "Which optimizers are covered?", "What
#: datasets are used?" ask for the papers on optimizers, on datasets.
_THINGS_ASKED = re.compile(
    r"^\W*(?:which|what)\s+(?P<things>(?:[\w-]+\s+){0,3}[\w-]+s)\s+"
    r"(?:are|were|get|have\s+been)\s+(?:covered|discussed|studied|mentioned|addressed|explored"
    r"|proposed|used|examined|investigated|considered|compared|evaluated|introduced|described"
    r"|presented|tackled|analy[sz]ed|benchmarked)\s*[?.!]*\s*$",
    re.IGNORECASE,
)


def without_request(text: str) -> str:
    """``text`` without a request that opens it, or as it is when nothing would be left.

    >>> without_request("Could you find me papers about layer pruning for LLMs?")
    'layer pruning for LLMs?'
    >>> without_request("I'm looking for work on diffusion policies")
    'diffusion policies'
    >>> without_request("I'm interested in diffusion models for robotics")
    'diffusion models for robotics'
    >>> without_request("Which papers prune LLM layers?")
    'Which papers prune LLM layers?'
    >>> without_request("Explain the consciousness prior")
    'the consciousness prior'
    >>> without_request("what's the paper about diffusion?")
    'diffusion?'
    >>> without_request("Hi! What do papers say about layer pruning? Thanks")
    'layer pruning?'
    >>> without_request("bandit papers pls"), without_request("find me work on pruning please?")
    ('bandit', 'pruning')
    >>> without_request("Give me an overview of research on optimizers in this collection")
    'optimizers'
    >>> without_request("Does any paper evaluate on FLEURS?")
    'evaluate on FLEURS?'
    >>> [without_request(q) for q in ("Which optimizers are covered?",
    ...     "What optimizers are discussed in the collection?", "What datasets are used?")]
    ['optimizers', 'optimizers', 'datasets']
    >>> without_request("Which paper fixes the straight-through estimator?")
    'the straight-through estimator?'
    >>> [without_request(q) for q in ("Do any papers use transformers for tabular data?",
    ...     "Are there papers that use diffusion for robotics?", "Explain the main idea of Muon")]
    ['transformers for tabular data?', 'diffusion for robotics?', 'Muon']
    >>> [without_request(q) for q in ("What's the abstract of the Muon paper?",
    ...     "Show me the abstract for SOAP", "papers on abstract reasoning")]
    ['the Muon paper?', 'SOAP', 'abstract reasoning']
    >>> [without_request(q) for q in ("What's the link to the Muon paper?", "url for SOAP",
    ...     "What are the main contributions of MARS?", "link prediction with GNNs")]
    ['the Muon paper?', 'SOAP', 'MARS?', 'link prediction with GNNs']
    >>> without_request("How is conformal prediction used in these papers?")
    'How is conformal prediction used?'
    >>> [without_request(q) for q in ("explain muon like im 5", "What is SOAP in simple terms?",
    ...     "describe the rotation trick for a beginner", "pruning for dummies")]
    ['muon', 'What is SOAP?', 'the rotation trick', 'pruning']
    >>> asks = ("tl;dr of", "ELI5", "What's the gist of")
    >>> [without_request(f"{ask} the bagging paper") for ask in asks]
    ['the bagging paper', 'the bagging paper', 'the bagging paper']
    >>> [without_request(q) for q in ("swivel summary", "muon tldr", "the rotation trick explained",
    ...     "abstractive text summary", "simvq abstract")]
    ['swivel', 'muon', 'the rotation trick', 'abstractive text summary', 'simvq']
    """
    asked = _AUDIENCE.sub("", _SCOPE.sub("", _THANKS.sub("", _LINK_ASKED.sub("", text))))
    last = _SUMMARY_LAST.match(asked)
    if last and not _SUMMARIZED.search(last["of"]):  # "abstractive text summary" is a topic
        asked = last["of"]
    things = _THINGS_ASKED.match(asked)
    if things:
        return things.group("things")
    match = _REQUEST.match(asked)
    after = asked[match.end() :] if match else asked
    rest = _without_frame(after)
    if rest != after:  # what the frame leaves may open with a request: "papers that use X"
        match = _REQUEST.match(rest)
        rest = rest[match.end() :] if match else rest
    elif match and (summary := _SUMMARY_AFTER.match(rest)):
        rest = rest[summary.end() :]  # "Explain the main idea of Muon"
    return rest if re.search(r"\w", rest) else text


#: A BibTeX entry asked for: "Give me the BibTeX for SOAP", "bibtex of these", "How do I cite
#: it?", "the citation for the rotation trick paper", "SOAP bibtex".
_BIBTEX = re.compile(
    r"(?:\b(?:give|show|get|send|print)\s+(?:me\s+|us\s+)?|\bwhat(?:'s|\s+is)\s+|\band\s+)?"
    r"(?:(?:the|a|an|its|their)\s+)?\bbib\s*tex\b(?:\s+(?:entry|entries|citations?|records?"
    r"|references?|keys?))?(?:\s+(?:for|of)\b)?"
    r"|\bhow\s+(?:(?:do|should|can|would|could)\s+(?:i|we|you)\s+|to\s+)cite\b"
    r"|(?:\b(?:give|show|get)\s+(?:me\s+)?)?\b(?:the|a)\s+citations?\s+(?:for|of)\b",
    re.IGNORECASE,
)


def bibtex_request(text: str) -> str | None:
    """``text`` without its request for BibTeX, where it makes one; else None.

    >>> [bibtex_request(q) for q in ("Give me the BibTeX for SOAP", "How do I cite it?",
    ...     "the citation for the rotation trick paper", "SOAP bibtex", "What is SOAP?")]
    ['SOAP', 'it?', 'the rotation trick paper', 'SOAP', None]
    """
    match = _BIBTEX.search(text)
    if match is None:
        return None
    return " ".join((text[: match.start()] + " " + text[match.end() :]).split())


#: Each order in words, (descending, ascending).
_SORT_PHRASES = {
    "date": ("newest first", "oldest first"),
    "upvotes": ("most upvoted", "fewest upvotes"),
    "author_count": ("most authors", "fewest authors"),
}
_PLACES = {2: "second", 3: "third", 4: "fourth", 5: "fifth"}
#: The order a follow-up adds to the question it asks again, as Sort.phrase says it: " (newest
#: first)", " (most upvoted)", " (second newest one)".
ORDER_ADDED = re.compile(
    rf" \((?:(?:{'|'.join(_PLACES.values())}) )?(?:"
    + "|".join(re.escape(p.removesuffix(" first")) for d in _SORT_PHRASES.values() for p in d)
    + r")(?: first| one)?\)$"
)


# A question after one paper: "which paper has ...", "the newest paper", "show me the one".
_ONE_PAPER = re.compile(
    # "Which paper has", "Which Hugging Face daily paper has", "Which of the papers has"
    r"\b(?:which|what) (?:[\w-]+ ){0,4}(?:paper|article|one|work|publication)"
    r" (?:has|had|is|was|got|received)\b"
    r"|\bwhich of (?:[\w-]+ ){0,4}(?:papers|articles|ones|works|publications) (?:has|is|was)\b"
    r"|\bthe (?:[\w-]+ ){1,3}(?:paper|article|one|publication)\b(?!s)(?! and\b)"
    # "Who is on the biggest team?": the authors of one paper
    r"|\bon the (?:[\w-]+ ){1,2}team\b(?!s)"
)

#: A question that is a noun phrase of one paper: "most liked daily paper", "newest RL paper?".
_ONE_PAPER_ASKED = re.compile(
    r"\W*(?:[\w-]+\s+){1,5}(?:paper|article|publication)"
    # "oldest paper in the collection", "newest paper here"
    r"(?:\s+(?:in|of)\s+(?:this|the|your)\s+(?:collection|library|corpus)|\s+here)?\s*[?.!]*\s*"
)


class Sort(BaseModel):
    """An ordering the question asks for ("the most authors", "the newest")."""

    key: str = Field(description="author_count, upvotes or date")
    descending: bool = True
    count: int | None = Field(
        None, ge=1, description='How many papers it asks for ("the three newest"), if it says.'
    )
    first: bool = Field(
        False,
        description='One paper asked for ("the newest paper"): the first, and those tied with it.',
    )
    place: int | None = Field(
        None,
        ge=2,
        description='The place of the one paper asked for, after the first ("the second newest '
        'paper"): that paper alone.',
    )

    def phrase(self) -> str:
        """The order in words the parser reads back: "newest first", "most upvoted".

        >>> parser = QueryParser([])
        >>> orders = [Sort(key=k, descending=d, place=p) for k in _SORT_PHRASES
        ...           for d in (True, False) for p in (None, 2, 5)]
        >>> all(parser.parse(f"papers on pruning ({o.phrase()})").sort == o for o in orders)
        True
        >>> Sort(key="date", place=2).phrase(), Sort(key="upvotes", place=3).phrase()
        ('second newest one', 'third most upvoted')
        """
        said = _SORT_PHRASES[self.key][0 if self.descending else 1]
        if self.place not in _PLACES:  # none, or one past those the parser reads
            return said
        # "which is the second newest?" asked again of the same papers keeps its place
        return f"{_PLACES[self.place]} {said.removesuffix(' first')}" + (
            " one" if self.key == "date" else ""  # "(second newest)" alone orders nothing
        )


#: What a count of papers per value groups by, and the words people use for it.
_GROUPS = {
    "author": r"(?:co-?)?authors?|researchers?|people|persons?|scientists?|writers?",
    "listing": r"venues?|listings?|lists?|conferences?",
    "year": r"years?",
    "month": r"months?",
    "category": r"categor(?:y|ies)|subject areas?|subjects?|tags?",
    "region": r"regions?|countr(?:y|ies)|continents?",
    "organization": r"organi[sz]ations?|institutions?|affiliations?|companies|company|labs?",
}
_PAPERS = (
    r"(?:papers?|works?|publications?|articles?|abstracts?|documents?|entries|entry|submissions?)"
)
#: The most papers, or the more of two named values ("Which listing has more papers, ICLR or
#: arXiv?"); and the fewest, or the fewer.
_MOST_OF = (
    r"(?:(?:the )?(?:most|(?:largest|greatest|highest|biggest) (?:number|count|share) of)"
    rf"|more(?= {_PAPERS}\b(?! than)))"
)
#: A few words within one clause: "author has the most papers", "year had the most papers".
_BETWEEN = r"(?:(?! and | or )[^?.!,;]){0,40}?"
_FEWEST_OF = (
    r"(?:(?:the )?(?:fewest|least|(?:smallest|lowest) (?:number|count|share) of)"
    rf"|(?:fewer|less)(?= {_PAPERS}\b(?! than)))"
)
#: ... or a count asked for by its verb: "count the papers about diffusion"
_TOTAL = r"(?:(?:number|count) of|^(?:please\s+)?count(?:\s+up)?(?:\s+(?:all\s+)?the)?)"
#: Papers qualified by up to three words ("daily papers", "ICLR 2026 papers"), none of which
#: orders them ("the most cited papers" is no count).
_QUALIFIED_PAPERS = (
    rf" (?:(?!(?:cited|upvoted|voted|recent|popular|read|downloaded)\b)[\w.-]+ ){{1,3}}{_PAPERS}\b"
)
_WRITERS = r"(?:authors?|researchers?|writers?|people|scientists?)"


_Mode = Literal["most", "fewest", "at_least", "each", "total"]
_Key = Literal["author", "listing", "year", "month", "category", "region", "organization"]
# "How many papers are there?", "... does the collection hold in total?": nothing but these words.
_TOTAL_WORDS = (
    "are is there do does you we it the this your our collection library corpus store database "
    "have has hold holds contain contains got in within total overall altogether all here exist"
)
_TOTAL_ASKED = re.compile(
    rf"\b(?:how many|{_TOTAL}) {_PAPERS}(?:\s+(?:{'|'.join(_TOTAL_WORDS.split())}))*"
    r"(?=\s*[?.!]*\s*$)"
)
#: What the collection holds, asked as a whole: "What's in this collection?", "What topics does
#: the collection cover?", "Give me an overview of the collection" (counted as in all).
_HELD = r"(?:this|the|your)\s+(?:collection|library|corpus|store|database|data\s*set)"
_OVERVIEW = re.compile(
    rf"^\W*(?:what(?:'s|\s+is)\s+in\s+{_HELD}"
    rf"|what\s+(?:topics|subjects|areas|fields|kinds?\s+of\s+papers)\s+(?:does|do)\s+{_HELD}"
    r"\s+(?:cover|contain|hold|include)"
    rf"|what\s+(?:does|do)\s+{_HELD}\s+(?:contain|hold|cover|include)"
    rf"|(?:give\s+me\s+|show\s+me\s+)?an?\s+overview\s+of\s+{_HELD}"
    # "list all papers", "show me every paper in the collection", "all the papers"
    r"|(?:(?:please\s+)?(?:list|show|give|display|print)(?:\s+me)?\s+)?"
    rf"(?:all(?:\s+of)?(?:\s+the)?|every)\s+(?:papers?|articles?)(?:\s+(?:in|of)\s+{_HELD})?"
    rf"|(?:list|show(?:\s+me)?)\s+the\s+(?:papers|articles)\s+(?:in|of)\s+{_HELD})"
    r"\s*[?.!]*\s*$"
)
#: The collection's themes asked for: "What topics are covered?", "What is this collection
#: about?", "What are the main themes in these papers?", "What research areas does the
#: collection span?" (counted as in all, with the papers grouped by meaning: ``themes.py``).
_THEIRS = (
    rf"(?:{_HELD}|(?:the|these|those|your|my|all\s+the|all\s+these)\s+"
    r"(?:papers|abstracts|articles|lists?|listings?))"
)
_THEME_WORDS = (
    r"(?:research\s+)?(?:topics?|themes?|areas?|directions?)|research\s+fields?"
    r"|kinds?\s+of\s+(?:papers|research|work)"
)
_THEMES_ASKED = re.compile(
    r"^\W*(?:(?:what|which)(?:'s|\s+is|\s+are|\s+were)?\s+(?:the\s+)?(?:(?:main|major|key|common"
    r"|recurring|big|biggest|largest|general|most\s+common|overall|hot|hottest|trending|popular"
    rf"|emerging|dominant|prominent|central)\s+)?(?:{_THEME_WORDS})"
    r"(?:\s+(?:are|is|were)\s+(?:covered|there|represented|present|included|addressed"
    r"|(?:the\s+)?most\s+(?:popular|common|frequent|represented)|(?:the\s+)?(?:largest|biggest))"
    # (the papers unsaid where a constraint was read out: "does the daily list cover")
    rf"|\s+(?:does|do)\s+(?:{_THEIRS}\s+)?(?:cover|span|contain|hold|include|address|touch\s+on)"
    r"|\s+comes?\s+up(?:\s+(?:most|often|the\s+most))?)?"
    rf"|what(?:'s|\s+is|\s+are)\s+{_THEIRS}\s+(?:mostly\s+|mainly\s+|generally\s+|all\s+)?about"
    # the word alone: "topics?", "main themes"
    rf"|(?:the\s+)?(?:main\s+|key\s+)?(?:{_THEME_WORDS})"
    rf"|(?:give\s+me\s+|show\s+me\s+)?an?\s+overview\s+of\s+(?:the\s+)?(?:{_THEME_WORDS})"
    # "Summarize the collection", "Give me an overview of the collection", "What's in this
    # collection?": what it holds
    rf"|(?:please\s+)?(?:summari[sz]e|describe|overview)\s+{_HELD}|what(?:'s|\s+is)\s+in\s+{_HELD}"
    rf"|(?:(?:give\s+me|show\s+me|what(?:'s|\s+is))\s+)?an?\s+(?:overview|summary)\s+of\s+{_HELD}"
    # ... of the papers a constraint keeps: "Give me an overview of the ICLR 2026 papers"
    r"|(?:(?:give\s+me|show\s+me)\s+)?an?\s+overview\s+of\s+(?:the|these|all\s+the)\s+papers)"
    rf"(?:\s+(?:in|of|by|across|within|among|covered\s+by)\s+{_THEIRS}|\s+here"
    # what a constraint read out of "of the 2025 papers" leaves
    r"|\s+(?:papers|articles|abstracts))?\s*[?.!]*\s*$"
)
#: ... of the papers on a topic: "What are the main themes of the papers about reinforcement
#: learning?" (the frame alone; the topic is left to be counted over the papers mentioning it).
_THEMES_ON = re.compile(
    r"^\W*(?:(?:what|which)(?:'s|\s+is|\s+are|\s+were)?\s+)?(?:the\s+)?(?:(?:main|major|key"
    rf"|common|recurring|biggest)\s+)?(?:{_THEME_WORDS})\s+(?:of|in|among|across|within)\s+"
    r"(?:the\s+|these\s+|all\s+(?:the\s+)?)?papers\s+(?:on|about)\s+(?=\w)"
    # "Give me an overview of the papers on RL"
    r"|^\W*(?:(?:give\s+me|show\s+me)\s+)?an?\s+overview\s+of\s+(?:the\s+)?papers\s+(?:on|about)"
    r"\s+(?=\w)"
)
#: What joins a field to "most common" said after it: "categories are most common".
_IS_THE = r"(?:is|are|was|were|appears?|seems?) (?:the )?"
#: How a question asks for a count per value; {g} is a group's words (_GROUPS).
_TALLY_RULES: list[tuple[str, _Mode]] = [
    # "Which author has the most papers?", "the year with the largest number of papers"
    (rf"\b(?:{{g}})\b{_BETWEEN}\b{_MOST_OF} {_PAPERS}\b", "most"),
    # ... with its papers left unsaid: "Which month had the most?", "which venue has the fewest?"
    (r"^\W*(?:which|what)\s+(?:{g})\s+(?:has|had|have)\s+the\s+most\s*[?.!]*\s*$", "most"),
    (
        r"^\W*(?:which|what)\s+(?:{g})\s+(?:has|had|have)\s+the\s+(?:fewest|least)\s*[?.!]*\s*$",
        "fewest",
    ),
    (rf"\btop (?:{_COUNT} )?(?:{{g}}) (?:by|in) (?:the )?{_TOTAL} {_PAPERS}", "most"),
    (r"\bmost (?:frequent|common|productive|represented) (?:{g})\b", "most"),
    # "Which categories are most common?", "which venue is the most represented?"
    (rf"\b(?:{{g}}) {_IS_THE}most (?:frequent|common|productive|represented)\b", "most"),
    (rf"\b(?:{{g}})\b{_BETWEEN}\b{_FEWEST_OF} {_PAPERS}\b", "fewest"),
    (r"\bleast (?:frequent|common|productive|represented) (?:{g})\b", "fewest"),
    (rf"\b(?:{{g}}) {_IS_THE}least (?:frequent|common|productive|represented)\b", "fewest"),
    # "authors with more than one paper", "listings with at least 20 papers"
    (
        rf"\b(?:{{g}})\b{_BETWEEN}\b(?:(?P<cmp>{_MORE}|at least) {_COUNT}"
        rf"|several|multiple|many|two or more|repeated) {_PAPERS}\b",
        "at_least",
    ),
    (r"\b(?:{g}) (?:\w+ )?(?:(?:appear|show)(?:s|ing)? (?:up )?)?more than once", "at_least"),
    # "the distribution of papers per year", "breakdown by venue", "How are the papers spread
    # over the years?" (before "papers per year", which left "distribution" as a topic)
    (
        # ... "break down the papers by listing", "tally papers by year"
        r"\b(?:breakdown|distribution|split|spread|histogram|(?:break|broken)\s+down|tally"
        r"|group|count)(?:\s+(?:of\s+)?(?:the\s+|all\s+(?:the\s+)?)?"
        rf"{_PAPERS})?\s+(?:per|by|for\s+each|over|across|among)\s+(?:the\s+)?(?:{{g}})\b"
        rf"|\b{_PAPERS}\s+(?:are\s+|were\s+)?(?:spread|distributed|split)\s+(?:over|across"
        r"|among|by)\s+(?:the\s+)?(?:{g})\b",
        "each",
    ),
    # "How many papers per year?", "How many papers does each listing have?", "... are from
    # each listing?" (spaces where a constraint was read out: "How many papers with code are
    # there per year?")
    (
        rf"\b{_PAPERS}\s+(?:are there\s+|were\s+(?:there\s+|published\s+)?"
        r"|(?:are|were|come|came|appear(?:ed)?)\s+(?:from|in)\s+)?"
        r"(?:(?:per|for each|in each|each|by)\s+(?:{g})(?=\s*(?:[?.!]|$))"
        # ... within a constraint read later: "How many papers per category in ICLR 2026?"
        # (not "papers by authors from Asia": by whom, not per author)
        r"|(?:per|for each|in each|each)\s+(?:{g})"
        r"(?=\s+(?:in|at|from|among|since|before|after)\s|\s+(?:are|were)\s+(?:about|on)\s))",
        "each",
    ),
    (rf"\bhow many {_PAPERS} (?:does|do|did) each (?:{{g}}) (?:have|has|hold|give)", "each"),
    # The values themselves: "Which categories are there?", "What venues are in the
    # collection?", "What years do the papers cover?", "list the venues", "Which categories
    # appear?"
    (
        r"^\W*(?:(?:which|what)\s+(?:{g})\s+(?:are|is|were)\s+(?:there|in\b|represented|covered"
        r"|listed|given|present|available)"
        r"|(?:which|what)\s+(?:{g})\s+(?:appear|occur|exist|show\s+up|come\s+up)(?=\s*(?:[?.!]|$))"
        r"|(?:which|what)\s+(?:{g})\s+(?:do|does)\s+(?:the\s+|these\s+|your\s+)?(?:papers?"
        r"|collection|authors)\s+(?:cover|span|come\s+from|have|include)"
        r"|(?:list|show)(?:\s+me)?\s+(?:all\s+)?(?:the\s+)?(?:{g})(?=\s*(?:[?.!]|$))"
        # ... of some papers, named after: "Which categories does ICLR 2026 cover?"
        r"|(?:which|what)\s+(?:{g})(?=\s+(?:do|does)\s+[^?]{2,40}?\s+(?:cover|span|include)\b))",
        "each",
    ),
    # ... where some papers appeared: "In which listings do papers on pruning appear?",
    # "What venues are the pruning papers from?", "In which years were papers on RLHF posted?"
    (
        r"^\W*(?:in\s+|from\s+)?(?:which|what)\s+(?:{g})(?=\s+(?:do|does|did|are|were|was|is)\s+"
        r"[^?]{0,40}?\b(?:papers|articles|works)\b[^?]{0,40}?\b(?:appear(?:s|ed)?|come\s+from"
        r"|came\s+from|from|published|posted|listed|released)\s*[?.!]*\s*$)",
        "each",
    ),
    # "Which authors have papers at ICLR 2026?", "which countries have papers on RL?"
    (
        rf"^\W*(?:which|what)\s+(?:{{g}})\s+(?:have|has|had)\s+(?:(?:any|some)\s+)?{_PAPERS}"
        r"(?=\s+(?:in|at|from|on|about)\b|\s*[?.!]*$)",
        "each",
    ),
    (rf"\b{_TOTAL} {_PAPERS} (?:per|by|for each) (?:{{g}})\b", "each"),
    # Last, "Which year has the most daily papers?" (not "at least 3 papers"): the words
    # between are left to be read.
    (rf"\b(?:{{g}})\b{_BETWEEN}\b{_MOST_OF}(?={_QUALIFIED_PAPERS})", "most"),
    (rf"\b(?:{{g}})\b{_BETWEEN}\b{_FEWEST_OF}(?={_QUALIFIED_PAPERS})", "fewest"),
]
_TALLY_AUTHORS: list[tuple[str, _Mode]] = [
    # "Which authors work on reinforcement learning?": of the papers mentioning it
    (
        r"^\W*(?:which|what)\s+(?:{g})\s+(?:work(?:s|ed)?|write|wrote|publish(?:ed)?)\s+"
        r"(?=(?:on|about)\s)",
        "each",
    ),
    # "Who wrote the most papers?", "Who has published the most?"
    (
        rf"\bwho\b{_BETWEEN}\b{_MOST_OF}(?: {_PAPERS}\b|(?=\s*(?:[?.!]|$)))",
        "most",
    ),
    (
        rf"\bwho(?:'s| is| are| was| were) (?:the )?most prolific(?: {_WRITERS})?\b"
        rf"|\bprolific {_WRITERS}\b",
        "most",
    ),
]


#: How many values of a field there are: "How many authors are there?", "the number of
#: distinct venues", "How many unique categories does the collection have?".
_DISTINCT = r"(?:distinct|unique|different|individual|separate) "
_VALUES_THERE = (
    r" (?:are|is) there\b| exist\b|(?: (?:are|is))? (?:(?:listed|named|represented) )?in "
    r"(?:the|this|your) (?:collection|library|corpus)\b| (?:does|do) (?:the|this|your) "
    r"(?:collection|library|corpus) (?:have|hold|list|contain|cover|include)\b"
    r"| (?:are|is) (?:listed|named|represented)\b| in total\b| overall\b| altogether\b"
)
_ANY_GROUP = "|".join(_GROUPS.values())
_VALUES_COUNTED = re.compile(
    rf"\bhow many (?:{_DISTINCT})?(?P<group>{_ANY_GROUP})"
    rf"(?={_VALUES_THERE}|\s*[?.!]*\s*$)"
    # "the number of distinct authors"; not "the average number of authors", nor "sorted by
    # the number of authors"
    r"|(?<!average )(?<!mean )(?<!median )(?<!by )(?<!by the )(?<!total )"
    rf"\b(?:the )?(?:number|count) of (?:the )?(?:(?:{_DISTINCT})(?P<g2>{_ANY_GROUP})"
    rf"|(?P<g3>{_ANY_GROUP})(?={_VALUES_THERE}))"
)
#: Each rule with each group's words, compiled once: (group, pattern, mode), in the order tried.
_TALLIES = [
    (key, re.compile(template.replace("{g}", group)), mode)
    for key, group in _GROUPS.items()
    for template, mode in _TALLY_RULES + (_TALLY_AUTHORS if key == "author" else [])
]


#: "How many papers on pruning are in each listing?", "... on LLMs per year?": a count per
#: value read from the question's end, after a count of papers asked for; the words between
#: are the topic it is counted within.
_EACH_AFTER = [
    (
        key,
        re.compile(
            r"\b(?:are there |are |were (?:there |published )?)?(?:per|for each|in each|by) "
            rf"(?:{group})(?=\s*(?:[?.!]|$))"
        ),
    )
    for key, group in _GROUPS.items()
]
#: "How many papers are about pruning?", "How many papers mention LLMs?": every paper that
#: mentions the topic after it, per listing.
_TOTAL_ON = re.compile(
    rf"\b(?:how many|{_TOTAL}) {_PAPERS}(?:\s+(?:{'|'.join(_TOTAL_WORDS.split())}))*\s+"
    r"(?:on|about|mention(?:s|ing)?|discuss(?:es|ing)?|cover(?:s|ing)?|us(?:e|es|ing)|"
    r"concern(?:s|ing)?|address(?:es|ing)?|stud(?:y|ies|ying)|investigat(?:e|es|ing)|"
    r"explor(?:e|es|ing)|examin(?:e|es|ing)|tackl(?:e|es|ing)|focus(?:es|ing)?\s+on|"
    r"deal(?:s|ing)?\s+with|talk(?:s|ing)?\s+about|work(?:s|ing)?\s+on)\b"
)
#: ... with constraints between ("How many papers from 2025 are about LLMs?", "How many ICLR
#: 2026 papers mention pruning?"): only the verb is taken, and the constraints are read after.
_TOTAL_VERB = re.compile(
    rf"\bhow\s+many(?:\s+[\w.'-]+){{0,4}}?\s+{_PAPERS}(?:\s+[\w.'-]+){{0,5}}?\s+"
    r"(?P<verb>(?:(?:are|is|were|was)\s+)?(?:about|on)(?!\s+(?:average|the\s+whole)\b)"
    r"|mention(?:s|ed)?|discuss(?:es|ed)?|"
    r"cover(?:s|ed)?|address(?:es|ed)?|concern(?:s|ed)?|us(?:e|es|ed)|stud(?:y|ies|ied)|"
    r"investigat(?:e|es|ed)|explor(?:e|es|ed)|examin(?:e|es|ed)|tackl(?:e|es|ed)|"
    r"focus(?:es|ed)?\s+on|deal(?:s|t)?\s+with|talk(?:s|ed)?\s+about|work(?:s|ed)?\s+on)\b"
)
#: A count of papers on a topic asked for, which _EACH_AFTER reads the rest of.
_HOW_MANY = re.compile(rf"\b(?:how many|{_TOTAL}) {_PAPERS} (?:on|about)\b")


class Tally(BaseModel):
    """A count of papers per value of one field that the question asks for: the values with
    the most papers ("Which author has the most papers?"), those with at least some
    ("authors with more than one paper"), or every value ("How many papers per year?")."""

    key: _Key
    mode: _Mode = "most"
    least: int = Field(2, ge=1, description="The fewest papers a value needs, for at_least.")
    count: int | None = Field(None, ge=1, description='How many values it asks for ("top 5").')
    themes: bool = Field(
        False,
        description="For a count in all: the papers' themes are asked for too (\"What topics "
        'are covered?").',
    )
    values: bool = Field(
        False,
        description='For a count of every value: how many values there are is asked ("How many '
        'authors are there?").',
    )

    @property
    def plural(self) -> str:
        """The field's values, in the plural: "authors", "categories"."""
        return {"category": "categories"}.get(self.key, f"{self.key}s")

    def noun(self, n: int) -> str:
        """``n`` values of the field counted: "12 authors", "1 category"."""
        return f"{n} {self.key if n == 1 else self.plural}"

    def phrase(self) -> str:
        """What was read, for the receipt: "papers per author, most first"."""
        if self.values:
            return f"the number of {self.plural}, and papers per {self.key}"
        if self.mode == "total":
            return "papers in all, and their themes" if self.themes else "papers in all"
        said = {
            "most": "most first",
            "fewest": "fewest first",
            "at_least": f"at least {self.least}",
            "each": "all",
        }
        return f"papers per {self.key}, {said[self.mode]}"


def _tally(lowered: str, take: Taker) -> Tally | None:
    """The count of papers per value that a question asks for, if it asks for one.

    >>> def read(q: str) -> str | None:
    ...     found = _tally(q.lower(), lambda *a, **k: None)
    ...     return found and found.phrase() + (f" ({found.count})" if found.count else "")
    >>> read("Which author has the most papers?")
    'papers per author, most first'
    >>> [read(q) for q in ("How many authors are there?", "number of distinct venues",
    ...     "How many authors does SOAP have?")]  # doctest: +NORMALIZE_WHITESPACE
    ['the number of authors, and papers per author',
     'the number of listings, and papers per listing', None]
    >>> read("Who wrote the most papers here?")
    'papers per author, most first'
    >>> read("Who are the most prolific researchers?")
    'papers per author, most first'
    >>> read("Which authors appear on more than one paper?")
    'papers per author, at least 2'
    >>> read("authors with at least 3 papers")
    'papers per author, at least 3'
    >>> read("Which listing has the largest number of papers?")
    'papers per listing, most first'
    >>> read("How many papers does each venue have?")
    'papers per listing, all'
    >>> read("number of papers by year")
    'papers per year, all'
    >>> read("Which year has the fewest papers?")
    'papers per year, fewest first'
    >>> [read(q) for q in ("Which listing has fewer papers, ICLR or arXiv?",
    ...     "Which year has more papers, 2024 or 2025?", "Which authors have more papers than Li?")]
    ['papers per listing, fewest first', 'papers per year, most first', None]
    >>> read("the top 3 authors by number of papers")
    'papers per author, most first (3)'
    >>> [read(q) for q in ("Which categories are most common?",
    ...     "which venue is the least represented?")]
    ['papers per category, most first', 'papers per listing, fewest first']
    >>> [read(q) for q in ("Which categories are there?", "What venues are in the collection?",
    ...     "What years do the papers cover?", "list the venues", "list the authors of SOAP")]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['papers per category, all', 'papers per listing, all', 'papers per year, all',
     'papers per listing, all', None]
    >>> [read(q) for q in ("In which listings do papers on pruning appear?",
    ...     "What venues are the pruning papers from?",
    ...     "In which years were papers on RLHF posted?", "Which listing is SOAP from?")]
    ['papers per listing, all', 'papers per listing, all', 'papers per year, all', None]
    >>> [read(q) for q in ("How many papers were published each month in 2025?",
    ...     "Which month had the most papers?", "How many papers each year?")]
    ['papers per month, all', 'papers per month, most first', 'papers per year, all']
    >>> [read(q) for q in ("How many papers are from each listing?",
    ...     "How many papers came from each year?", "How many papers are in each venue?")]
    ['papers per listing, all', 'papers per year, all', 'papers per listing, all']
    >>> [read(q) for q in ("Which month had the most?", "which venue has the fewest?")]
    ['papers per month, most first', 'papers per listing, fewest first']
    >>> [read(q) for q in ("Which categories appear?", "What venues are listed?",
    ...     "which years show up?")]
    ['papers per category, all', 'papers per listing, all', 'papers per year, all']
    >>> [read(q) for q in ("which organizations are represented?",
    ...     "what regions do the authors come from?", "Which labs have the most papers?")]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['papers per organization, all', 'papers per region, all',
     'papers per organization, most first']
    >>> [read(q) for q in ("Which authors have papers at ICLR 2026?",
    ...     "Which authors have more than one paper?", "which authors have papers")]
    ['papers per author, all', 'papers per author, at least 2', 'papers per author, all']
    >>> [read(q) for q in ("How many papers per category in ICLR 2026?",
    ...     "Which categories does ICLR 2026 cover?", "papers by authors from Asia")]
    ['papers per category, all', 'papers per category, all', None]
    >>> [read(q) for q in ("What is the distribution of papers per year?", "breakdown by venue",
    ...     "How are the papers spread over the years?", "break down the papers by listing",
    ...     "tally papers by year")]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['papers per year, all', 'papers per listing, all', 'papers per year, all',
     'papers per listing, all', 'papers per year, all']
    >>> [read(q) for q in ("count the papers about diffusion", "count all the papers")]
    ['papers in all', 'papers in all']
    >>> read("Which authors work on reinforcement learning?")
    'papers per author, all'
    >>> read("How many papers per year are about LLMs?")
    'papers per year, all'
    >>> [read(q) for q in ("How many papers on LLMs are there per year?",
    ...     "number of papers about pruning by listing", "How many papers on X by Li?")]
    ['papers per year, all', 'papers per listing, all', 'papers in all']
    >>> [read(q) for q in ("How many papers are in the collection?", "how many papers here",
    ...     "what's in this collection?", "What topics does the collection cover?")]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['papers in all', 'papers in all', 'papers in all, and their themes',
     'papers in all, and their themes']
    >>> themed = ("What topics are covered?", "What is this collection about?",
    ...     "What are the main themes in these papers?", "What research areas does the "
    ...     "collection span?", "what are the papers mostly about?", "an overview of the topics",
    ...     "What topics are covered in the collection?", "Which topics come up most?")
    >>> {read(q) for q in themed}
    {'papers in all, and their themes'}
    >>> read("What are the main themes of the papers about reinforcement learning?")
    'papers in all, and their themes'
    >>> {read(q) for q in ("Which theme is the largest?", "Give me an overview of the papers",
    ...     "Give me an overview of the papers on RL")}
    {'papers in all, and their themes'}
    >>> [read(q) for q in ("topics?", "themes", "main themes", "What topics does SOAP cover?")]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['papers in all, and their themes', 'papers in all, and their themes',
     'papers in all, and their themes', None]
    >>> {read(q) for q in ("Summarize the collection", "Give me an overview of the collection",
    ...     "What is the biggest theme?", "Which topics are most popular?")}
    {'papers in all, and their themes'}
    >>> [read(q) for q in ("What topics does SOAP cover?", "What is the SOAP paper about?",
    ...     "Which subjects are there?")]
    [None, None, 'papers per category, all']
    >>> [read(q) for q in ("list all papers", "Show me every paper in the collection.",
    ...     "all the papers", "list the papers in this library", "list all papers about RL")]
    ['papers in all', 'papers in all', 'papers in all', 'papers in all', None]
    >>> [read(q) for q in ("How many papers are about pruning?", "how many papers mention LLMs",
    ...     "How many papers on LLMs are there?", "How many papers did Li write?",
    ...     "How many papers from 2025 are about LLMs?", "How many ICLR 2026 papers use RL?",
    ...     "How many papers study RLHF?", "how many 2025 papers focus on pruning")]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['papers in all', 'papers in all', 'papers in all', None, 'papers in all', 'papers in all',
     'papers in all', 'papers in all']
    >>> read("How many papers with more than 3 authors on reinforcement learning")
    'papers in all'
    >>> [read(q) for q in ("Which paper has the most authors?", "papers by authors from Asia",
    ...     "Which papers have more than 5 authors?", "the most popular papers on pruning")]
    [None, None, None, None]
    """
    values = _VALUES_COUNTED.search(lowered)
    if values:  # "How many authors are there?": had named nothing to search for
        said = values["group"] or values["g2"] or values["g3"]
        key = next(k for k, words in _GROUPS.items() if re.fullmatch(words, said))
        tally = Tally(key=cast(_Key, key), mode="each", values=True)
        take(values, "count", tally.phrase())
        return tally
    for key, pattern, mode in _TALLIES:
        match = pattern.search(lowered)
        if not match:
            continue
        n = match.groupdict().get("n")
        tally = Tally(
            key=key,
            mode=mode,
            count=(number(n) or None) if mode in ("most", "fewest") and n else None,
        )
        if mode == "at_least" and n:
            more = re.fullmatch(_MORE, match.group("cmp") or "") is not None
            tally.least = max(number(n) + more, 1)
        take(match, "count", tally.phrase())
        return tally
    asked = _HOW_MANY.search(lowered)
    for key, pattern in _EACH_AFTER if asked else []:
        match = pattern.search(lowered, asked.end() if asked else 0)
        if match:
            tally = Tally(key=key, mode="each")
            take(match, "count", tally.phrase())
            return tally
    themes = _THEMES_ASKED.search(lowered) or _THEMES_ON.search(lowered)
    if themes:  # "What topics are covered?": all of them, per listing, and their themes
        tally = Tally(key="listing", mode="total", themes=True)
        take(themes, "count", tally.phrase())
        return tally
    total = _TOTAL_ASKED.search(lowered) or _TOTAL_ON.search(lowered) or _OVERVIEW.search(lowered)
    verb = None if total else _TOTAL_VERB.search(lowered)
    if verb:
        total = re.compile(re.escape(verb.group("verb"))).search(lowered, verb.start("verb"))
    if total:  # "How many papers are in the collection?": all of them, per listing
        tally = Tally(key="listing", mode="total")
        take(total, "count", tally.phrase())
        return tally
    return None


#: "more papers", "more ICLR 2026 papers", "papers ... more": more or fewer of two values, not
#: more than a number.
_MORE_OF_TWO = re.compile(
    rf"\b(?P<w>more|fewer|less)(?: [\w.-]+){{0,3}}? {_PAPERS}\b(?! than)"
    rf"|\b{_PAPERS}(?: [\w.-]+){{0,3}}? (?P<w2>more|fewer|less)\b(?! than)"
)


def _of_two(lowered: str, found: dict[str, object], take: Taker) -> Tally | None:
    """Which of two values named with "or" has more (or fewer) papers, no field named: "Does
    ICLR or arXiv have more papers?" counts per listing, "Were more papers posted in 2024 or
    2025?" per year (the filter already holds the two values).

    >>> def read(q: str) -> tuple[str, ...] | None:
    ...     found: dict[str, object] = {"any_venue": ["ICLR 2026", "arXiv.org Machine Learning"]}
    ...     if "20" in q:
    ...         found = {"since": "2024", "until": "2025"}
    ...     tally = _of_two(q.lower(), found, lambda *a, **k: None)
    ...     return tally and (tally.key, tally.mode)
    >>> [read(q) for q in ("Does ICLR or arXiv have more papers?",
    ...     "Are there fewer ICLR papers or arXiv papers?",
    ...     "Were more papers posted in 2024 or 2025?",
    ...     "ICLR or arXiv papers with more than 3 authors", "papers from ICLR or arXiv")]
    [('listing', 'most'), ('listing', 'fewest'), ('year', 'most'), None, None]
    """
    asked = _MORE_OF_TWO.search(lowered)
    if asked is None or " or " not in lowered:
        return None
    key: Literal["listing", "year"]
    venues, years = found.get("any_venue"), found.get("years")
    since, until = str(found.get("since", "")), str(found.get("until", ""))
    in_a_row = len(since) == len(until) == 4 and int(until) == int(since) + 1  # "2024 or 2025"
    if isinstance(venues, list) and len(venues) == 2:
        key = "listing"
    elif (isinstance(years, list) and len(years) == 2) or in_a_row:
        key = "year"
    else:
        return None
    tally = Tally(
        key=key, mode="most" if (asked.group("w") or asked.group("w2")) == "more" else "fewest"
    )
    take(asked, "count", tally.phrase())
    return tally


class Query(BaseModel):
    """What a question asks for: a topic to search, metadata filters, and an optional order."""

    text: str = Field(description="The question as asked.")
    topic: str = Field(description="The question without its metadata phrases; may be empty.")
    filters: Filters = Field(default_factory=Filters)
    sort: Sort | None = None
    tally: Tally | None = None
    count: int | None = Field(
        None,
        ge=1,
        description='How many papers it asks for, with no order ("give me 3 papers on bandits"):'
        " that many, by relevance.",
    )
    average: Literal["authors", "upvotes"] | None = Field(
        None,
        description='A mean asked for ("What is the average number of authors?"): of that '
        "field over the papers matching the rest of the question.",
    )
    share: bool = Field(
        False,
        description='A share of the collection asked for ("What proportion of papers have '
        'code?"): the papers matching are said as a share of all of them too.',
    )
    recognised: list[str] = Field(
        default_factory=list, description="Each metadata phrase recognised, for the receipt."
    )
    unread: list[str] = Field(
        default_factory=list,
        description="Phrases that look like constraints but that no field or rule could use "
        '("more than 100 citations"): said in the answer, searched as words.',
    )
    unread_reasons: dict[str, str] = Field(
        default_factory=dict,
        description="Why a phrase of ``unread`` could not be used, where it is not that no "
        "field holds it (a venue no paper gives).",
    )
    corrected: dict[str, str] = Field(
        default_factory=dict,
        description="Misspelt words of the question and the collection's words they were read "
        'as ("rotaton": "rotation"; ``text`` is read so); see spelling.corrections.',
    )

    @property
    def subject(self) -> str:
        """The topic's words beyond the frame of a metadata question ("protein folding" of
        "Which papers are about protein folding?"), as written."""
        return subject_of(without_request(self.topic))

    @property
    def mentioned(self) -> list[list[str]]:
        """The phrases a paper must mention to be counted as on the topic, all of one list
        (see subject_parts): "reinforcement learning" and "LLMs" of "How many papers are
        about reinforcement learning for LLMs?"."""
        return subject_parts(without_request(self.topic))

    @property
    def mentioned_said(self) -> str:
        """``mentioned`` as the answer quotes it: "'reinforcement learning' and 'LLMs'"."""
        return said_parts(self.mentioned)

    @property
    def constraints(self) -> list[str]:
        """The phrases of ``recognised`` that say which papers match (not how many to show)."""
        return [r for r in self.recognised if not r.startswith(ASKED_FOR)]

    @property
    def listing_of_one(self) -> bool:
        """Whether the question asks yes or no of one paper's listing or date ("Is MARS from
        ICLR?"), which the answer's line for the paper then shows."""
        return _LISTING_OF_ONE in self.recognised

    @property
    def bare(self) -> bool:
        """True when the topic has no word beyond the frame of a metadata question."""
        return not self.subject

    @property
    def searched(self) -> str:
        """What the rankers search: the topic once constraints were read out of the question
        (else the question as asked), without a request that opens it ("Find me papers on")."""
        asked = self.topic if self.recognised or self.unread else self.text
        searched = without_request(without_preamble(asked))
        # A question typed in capitals ("PAPERS ABOUT ROBOTICS") is searched as written in
        # lower case: the dense model tells cases apart, and put it below the threshold that
        # "papers about robotics" clears.
        return searched.lower() if _shouted(self.text) else searched

    @property
    def unheld_only(self) -> str | None:
        """The order or count by a field no paper carries that the question asks and nothing
        else ("which is the most cited?"), else None: asked after a topic, of that topic.

        >>> parser = QueryParser([])
        >>> [parser.parse(q).unheld_only for q in ("which is the most cited?",
        ...                                       "the most cited papers on optimizers")]
        ['most cited', None]
        """
        if not self.filters.empty or self.sort or self.tally or not self.unread:
            return None
        if not all(_UNHELD.fullmatch(phrase) for phrase in self.unread):
            return None
        return None if subject_of(_UNHELD.sub(" ", self.topic)) else self.unread[0]

    @property
    def listing(self) -> bool:
        """True when the question is only metadata (list what matches, no topic to rank by)
        or a count per value (also within a topic: over the papers using its words)."""
        return (
            self.tally is not None
            or self.average is not None
            or ((not self.filters.empty or self.sort is not None) and self.bare)
        )


def _shouted(text: str) -> bool:
    """True when ``text`` has no lower-case letter and three words or more.

    >>> [_shouted(t) for t in ("PAPERS ABOUT ROBOTICS", "What is SOAP?", "SOAP VS MARS?", "LLM RL")]
    [True, False, True, False]
    """
    return not re.search(r"[a-z]", text) and len(re.findall(r"[A-Z]{2,}", text)) >= 3


class Reading(BaseModel):
    """A model's reading of a question into the same filters and order the rules produce
    (prompts/filters.txt), checked here like any other input."""

    model_config = ConfigDict(extra="forbid")

    filters: Filters = Field(default_factory=Filters)
    sort: Sort | None = None
    topic: str = Field("", description="What to search for once the constraints are taken out.")
    unread: list[str] = Field(default_factory=list)

    def query(self, text: str) -> Query:
        """The Query this reading makes of the question ``text``."""
        stated = self.filters.model_dump(exclude_defaults=True)
        recognised = [f"{name}: {value} (read by the model)" for name, value in stated.items()]
        if self.sort is not None:
            recognised.append(f"sort by {self.sort.key} (read by the model)")
        topic = self.topic if stated or self.sort is not None else (self.topic or text)
        return Query(
            text=text,
            topic=" ".join(topic.split()),
            filters=self.filters,
            sort=self.sort,
            recognised=recognised or ["no constraints (read by the model)"],
            unread=self.unread,
        )


# Words that state a constraint on a paper's fields: with none of them, and nothing the rules
# recognised, a question is not sent to a model for reading.
MAY_CONSTRAIN = re.compile(
    r"\b(?:authors?|authored|co-?authored|written|posted|published|dated|undated|(?:19|20)\d\d|"
    r"venues?|conference|listing|categor\w*|tagged|(?:up)?votes?|upvoted|organi[sz]ations?|"
    r"affiliations?|newest|latest|oldest|earliest|people|cited|citations?)\b",
    re.IGNORECASE,
)


@dataclass
class Vocabulary:
    """The collection's author names, venues and category labels, folded for matching."""

    names: dict[str, str] = field(default_factory=dict)  # folded full name -> name
    #: A name's first and last words, folded, -> the name ("michael albergo" -> "Michael S.
    #: Albergo"); None where two names share them.
    aliases: dict[str, str | None] = field(default_factory=dict)
    surnames: dict[str, str] = field(default_factory=dict)  # folded last name -> last name
    venues: list[str] = field(default_factory=list)
    categories: dict[str, str] = field(default_factory=dict)  # folded label -> label
    organizations: list[str] = field(default_factory=list)
    regions: dict[str, str] = field(default_factory=dict)  # folded place -> place
    longest_name: int = 1
    months: set[str] = field(default_factory=set)  # the months papers are dated in, YYYY-MM
    #: What a title names its paper by, folded ("hi-agent"), -> the paper's date ("" when it
    #: gives none); None where two titles share it.
    heads: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def build(cls, papers: Iterable[Paper]) -> Vocabulary:
        return cls().extended(papers)

    def extended(self, papers: Iterable[Paper]) -> Vocabulary:
        """This vocabulary with the names, venues and labels of ``papers`` added (a copy)."""
        vocab = Vocabulary(
            dict(self.names),
            dict(self.aliases),
            dict(self.surnames),
            [],
            dict(self.categories),
            [],
            dict(self.regions),
            self.longest_name,
            set(self.months),
            dict(self.heads),
        )
        venues: set[str] = set(self.venues)
        organizations: set[str] = set(self.organizations)
        for paper in papers:
            for name in paper.authors:
                folded = fold(name)
                if len(folded.split()) >= 2:
                    vocab.names.setdefault(folded, name)
                    vocab.longest_name = max(vocab.longest_name, len(folded.split()))
                    # Written without its middle words or initials ("S. Alireza Seyyed
                    # Mousavi" as "Alireza Mousavi").
                    words = [w for w in folded.split() if len(w) > 1]
                    alias = f"{words[0]} {words[-1]}" if len(words) >= 2 else folded
                    if alias != folded:
                        known = vocab.aliases.get(alias, name)
                        same = known is not None and fold(known) == folded
                        vocab.aliases[alias] = name if same else None
                    last = name.split()[-1]
                    if len(last) >= 3 and last[0].isupper() and last.replace("-", "").isalpha():
                        vocab.surnames.setdefault(fold(last), last)
            venues.update(v for v in [paper.venue, *paper.sources] if v)
            for path in paper.categories:
                for label in path.split(" > "):
                    vocab.categories.setdefault(fold(label), label.strip())
            for path in paper.regions:
                for place in path.split(" > "):
                    vocab.regions.setdefault(fold(place), place.strip())
            if paper.organization:
                organizations.add(paper.organization)
            if paper.date and len(paper.date) >= 7:
                vocab.months.add(paper.date[:7])
            head = fold(title_name(paper.title))
            if head:
                vocab.heads[head] = (paper.date or "") if head not in vocab.heads else None
        vocab.venues = sorted(venues)
        vocab.organizations = sorted(organizations)
        return vocab

    def name(self, folded: str) -> str | None:
        """The collection's name written ``folded``, in full or by its first and last words."""
        return self.names.get(folded) or self.aliases.get(folded)


# What a constraint the parser cannot use looks like: a comparison with a number, or a field
# papers here do not carry. Checked on what is left once the recognised phrases are taken out.
_UNREAD = re.compile(
    rf"\b(?:{_MORE}|{_LESS}|{_LEAST}|{_MOST}|exactly)\s+\d[\d,.]*\s+[a-z][\w-]*"
    r"|\b\d[\d,.]*\s+or\s+(?:more|fewer|less)\s+[a-z][\w-]*"
    r"|\b(?:most|least|highly|frequently)[- ]cited\b|\bcitations?\b|\bcitation counts?\b"
    r"|\b(?:github )?stars\b|\bdownloads\b|\bimpact factor\b|\bh-index\b|\bjournal\b",
    re.IGNORECASE,
)
#: A yes-or-no question of one paper's listing or date, the paper named in capitals or as "the
#: ... paper": "Is MARS from ICLR?", "Was SOAP published in 2024?", "Is the rotation trick paper
#: an ICLR paper?". Its listing or date is asked, as "Which venue is MARS from?" asks it; read as
#: a filter, no paper met it, and the paper was said to lie outside the papers searched.
_YES_NO_OF_ONE = re.compile(
    r"^\W*(?:is|was)\s+(?!(?:there|it|this|that|any|some|every|each|one|a|an|anything)\b)"
    r"(?P<name>[^\s?]+(?:\s+[^\s?]+){0,4}?)\s+(?:(?:first\s+)?(?:published|posted|released"
    r"|accepted|presented|listed|out)\s+)?(?P<asked>(?:from|in|at|to|on|an?)\s+[^?]+)\?*\s*$",
    re.IGNORECASE,
)


_YEAR_SAID = re.compile(rf"\b{_YEAR}\b")
_LISTING_WORDS = frozenset(["conference", "venue", "listing", "journal", "workshop"])


def _listing_asked_of_one(text: str) -> re.Match[str] | None:
    """The match where ``text`` asks yes or no of one paper's listing or date (see
    _YES_NO_OF_ONE), else None.

    >>> [bool(_listing_asked_of_one(q)) for q in ("Is MARS from ICLR?",
    ...     "Was SOAP published in 2024?", "Is the rotation trick paper an ICLR paper?",
    ...     "Is there a paper from 2024?",
    ...     "Is reinforcement learning popular in 2025?", "Is RL big in 2025?")]
    [True, True, True, False, False, False]
    """
    asked = _YES_NO_OF_ONE.match(text)
    if asked is None:
        return None
    words = asked["name"].split()
    if words[-1].lower() == "paper":  # "the rotation trick paper", "the Muon paper"
        return asked
    # One name in capitals or with one inside ("MARS", "NegMerge"), not a topic ("RL big").
    named = len(words) == 1 and re.fullmatch(r"[A-Z0-9][\w-]*[A-Z][\w-]*", words[0])
    return asked if named else None


#: An order or a count by a field no paper carries ("the most cited", "with over 100 citations",
#: "sorted by GitHub stars"): said unread, and taken out of the topic, whose search it had
#: pulled toward papers saying "cited" ("the most cited papers on optimizers" was uncertain).
_UNHELD_FIELD = (
    r"(?:citations?|citation counts?|(?:github )?stars|downloads|impact factors?|h-index)"
)
_WITH_THE = r"(?:(?:with|having)\s+)?(?:the\s+)?"
_UNHELD = re.compile(
    rf"\b(?:{_WITH_THE}(?:most|least|fewest|highest|lowest|more|fewer|number of)"
    rf"\s+{_UNHELD_FIELD}"
    r"|(?:the\s+)?(?:most|least|highly|frequently|widely)[- ]cited"
    rf"|{_WITH_THE}(?:{_MORE}|{_LESS}|{_LEAST}|{_MOST}|exactly)\s+\d[\d,.]*\s+{_UNHELD_FIELD}"
    rf"|\d[\d,.]*\+?\s+(?:or\s+(?:more|fewer|less)\s+)?{_UNHELD_FIELD}"
    rf"|(?:sort(?:ed)?|rank(?:ed)?|order(?:ed)?)\s+by\s+(?:(?:the\s+)?number\s+of\s+)?"
    rf"{_UNHELD_FIELD})\b",
    re.IGNORECASE,
)
#: Citations between papers ("Which papers cite SOAP?", "papers citing X", "cited by X"): no
#: paper's references are held, so the papers mentioning the rest are what is found.
_CITING = re.compile(
    r"(?<!\bi )(?<!\bwe )\b(?:cit(?:e|es|ing)|cited\s+by)\b", re.IGNORECASE
)  # not "How do I cite X?"
_NO_REFERENCES = (
    "the papers' reference lists are not in the collection; the papers that mention the rest "
    "of the question are searched"
)
#: A statistic over a field ("the average number of authors", "median upvotes", "on average"):
#: none is computed, and the answer says what is.
_AVERAGE = re.compile(
    r"\b(?:average|mean|median)\s+(?:number\s+of\s+|count\s+of\s+)?(?:co-?authors?|authors?"
    r"|up-?votes?|votes?|years?|dates?|citations?|papers?)\b(?:\s+(?:per|a|each)\s+paper\b)?"
    # "How many authors does a paper have on average?"
    r"|\bhow\s+many\s+(?:co-?authors|authors|up-?votes|votes)\b[^?.!]{0,40}?\bon\s+average\b"
    r"|\bon\s+average\b",
    re.IGNORECASE,
)
#: An order by the length of a paper's text ("the longest abstract", "the shortest title"):
#: no length is a field, and the answer says which orders there are.
_LENGTH = re.compile(
    r"\b(?:longest|shortest|lengthiest|briefest)\s+(?:abstracts?|titles?|papers?"
    r"|summar(?:y|ies)|descriptions?|names?)\b",
    re.IGNORECASE,
)
_NO_LENGTH = (
    "no paper's length is a field; papers can be ordered by date, upvotes or number of authors "
    '("Which paper has the most authors?")'
)
#: What is said of an author beside their name: a role in the paper ("is the last author",
#: "first-authored by"), "et al.", "and coauthors".
_AUTHOR_ROLE = re.compile(
    r"\b(?:(?:is|as|was)\s+(?:the\s+|a\s+)?(?P<role>(?:first|last|lead|senior|corresponding"
    r"|main)\s+author)\b|(?P<role2>(?:first|last|senior)[- ]authored)(?=\s+by\b))"
    r"|\bet\.?\s+al\b\.?|\band\s+(?:(?:his|her|their)\s+)?(?:co-?authors|colleagues)\b",
    re.IGNORECASE,
)
_NO_ROLE = (
    "the papers list their authors, not who led the work; all the papers listing them are given"
)
_NO_FIELD = (
    "no field of the papers holds it; papers can be ordered by date, upvotes or number of "
    'authors ("the most upvoted papers on X")'
)
_NO_AVERAGE = (
    "an average is computed of the number of authors or of upvotes only; ask for a count per "
    'value, "How many papers per year?", or an order, "Which paper has the most authors?", '
    "whose lines give each paper's value"
)
#: A year before those read as dates, at the end of a clause ("Which papers are from 1850?").
_OLD_YEAR = re.compile(
    r"\b(?:from|in|before|after|since|during|until)\s+1[0-8]\d\d(?=\s*(?:[?.!,;]|$))", re.I
)
#: A category named as one ("tagged Robotics", "in the Robotics category"), its name as
#: ``label``: up to four words, before the end of the clause.
_CATEGORY_NAMED = re.compile(
    r"\btagged\s+(?:(?:with|as|under|in)\s+)?(?:an?\s+|the\s+)?"
    r"(?P<label>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,3}?)"
    r"(?:\s+(?:category|categories|tag|label|subject))?"
    r"(?=\s*[?.,;!]|\s+(?:and|or|with|that|which|on|about|in|from|by|papers?)\b|\s*$)"
    r"|\b(?:in|under|from)\s+the\s+(?P<label2>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,3}?)\s+"
    r"(?:category|subject|subject area|field)\b"
)
#: Words saying a category is meant ("tagged", "classified as", "falls under").
_CATEGORY_SAID = re.compile(
    r"\bcategor|\btag(?:s|ged)?\b|\bsubject\b|\bfield of\b|\bclass(?:ed|ified)\b"
    r"|\b(?:falls?|falling|filed|listed)\s+under\b|\blabell?ed\b"
)
_MONTH_NAMES = "(?:" + _MONTH.title() + ")"  # "published in May" is a date
# Venues a question may name that the collection need not hold: the main machine-learning,
# vision, language, robotics and data conferences and journals, by the name people use.
_KNOWN_VENUES = (
    r"NeurIPS|NIPS|ICML|ICLR|CVPR|ICCV|ECCV|WACV|ACL|EMNLP|NAACL|EACL|COLING|AAAI|IJCAI|KDD|"
    r"SIGIR|WSDM|RecSys|CoRL|ICRA|IROS|UAI|AISTATS|COLT|TMLR|JMLR|TPAMI|MICCAI|ICASSP|"
    r"Interspeech|MLSys|SIGGRAPH"
)
# A venue the question names: one of those above (with a year or "conference"), or a name
# after "published in", "presented at" and the like that looks like a venue: an acronym
# ("CHI"), a journal's or a meeting's name ("Journal of ...", "... Conference") or one of the
# journals known by one word. "published in Computer Vision" is a topic, "in English" no venue.
_JOURNALS = "Nature|Science|Cell|PNAS|Neurocomputing|Bioinformatics"
# A capitalised name holding one of these words names a venue, wherever the word stands in it.
_VENUE_WORDS = (
    r"(?:[A-Z][\w-]*\s+)*(?:Journal|Transactions|Proceedings|Conference|Workshop|Symposium|"
    r"Letters|Review|Magazine)\b"
)
# A known venue's name counts where it reads as one: after "at", "in", "from" and the like, or
# before a year or "papers" ("NeurIPS papers", "ICML 2019"), not in "the KDD Cup data".
_VENUE_NAMED = re.compile(
    rf"(?:\b(?:(?i:published|presented|appeared|accepted)\s+)?(?i:in|at|to|from|of|and|or)\s+"
    rf"(?:the\s+)?"
    rf"(?=(?:{_KNOWN_VENUES})\b)|\b(?=(?:{_KNOWN_VENUES})(?:\s*'?\d{{2}}(?:\d{{2}})?)?"
    rf"\s+(?i:papers?|conference|workshop|proceedings)\b|(?:{_KNOWN_VENUES})\s*'?\d{{2}}))"
    rf"(?P<venue>(?:{_KNOWN_VENUES})(?:\s*'?\d{{2}}(?:\d{{2}})?)?\b(?:\s+(?:conference|workshop))?"
    rf"(?:\s+(?:19|20)\d\d)?)"
    rf"|\b(?i:published|presented|appeared|accepted)\s+(?:in|at|to)\s+(?:the\s+)?"
    rf"(?!{_MONTH_NAMES}\b)(?P<named>(?=[A-Z][\w-]*[A-Z]|{_VENUE_WORDS}|(?:{_JOURNALS})\b)"
    rf"[A-Z][\w-]*(?:\s+(?:[A-Z][\w-]*|of|on|for|\d{{4}})){{0,5}})"
)
_GENERIC_ORG_WORDS = {"university", "institute", "of", "the", "lab", "labs", "research", "inc"}
#: An organization the question says papers come from, by the people who work there: "people
#: at Google", "researchers from Meta AI", "Google researchers", "the DeepMind team".
_PEOPLE = r"(?i:researchers?|authors?|people|scientists?|engineers?|folks|teams?|labs?)"
_ORG_NAME = r"[A-Z][\w&.-]*(?: [A-Z][\w&.-]*){0,3}"
_ORGANIZATION_NAMED = re.compile(
    rf"\b{_PEOPLE} (?i:at|from) (?:the )?(?P<after>{_ORG_NAME})"
    rf"|(?<![\w-])(?P<before>{_ORG_NAME}) {_PEOPLE}\b"
)
#: ... or by papers said to come from it: "any papers from MIT?", "work out of Meta AI",
#: "Which papers are from Google?", "papers that came out of DeepMind", "papers written at
#: Google" (a name no paper uses as a word: "papers from Transformers" asks about them).
_FROM_NAMED = re.compile(
    r"\b(?i:papers?|works?|research|publications?|articles?|anything|something)\s+"
    r"(?:(?i:that|which)\s+)?(?:(?i:are|were|is|was|come|comes|came|coming)\s+)?"
    r"(?:(?i:from|out\s+of)|(?i:written|done|produced)\s+(?i:at))\s+"
    rf"(?:the\s+)?(?P<after>{_ORG_NAME})"
)
#: ... or a maker asked what it wrote, one word no paper uses nor lists as an author: "What
#: has DeepMind published?", "What did Jones write?" (a word papers use may be a method's).
_MAKER_NAMED = re.compile(
    r"\b(?i:what|which\s+papers?)\s+(?i:did|has|have)\s+(?P<maker>[A-Z][\w'.-]+)\s+"
    r"(?i:write|written|wrote|publish|published|release|released|put\s+out)\b"
)
#: Capitalised words before "researchers" that name no organization ("Which authors ...").
_NOT_ORG_TEXT = """
    which what who whose how are is do does did the a an show list find give name all any many
    most top prolific single sole other these those their our my your
    """
_NOT_ORG_WORDS = frozenset(_NOT_ORG_TEXT.split())
_FIELD_WORDS = {
    "authors": r"author (?:names?|counts?|lists?)|(?:co-?)?authors?|anonymous",
    "date": r"dates?|undated|publication dates?",
    "upvotes": r"(?:up)?votes?",
    "categories": r"categor(?:y|ies)|tags?",
    "venue": r"venues?",
    "organization": r"organi[sz]ations?|affiliations?",
    "regions": r"regions?|places?|locations?|countr(?:y|ies)",
    "doi": r"dois?|digital object identifiers?",
    "arxiv_id": r"arxiv (?:ids?|identifiers?|numbers?)",
}
_FIELDS = "|".join(f"(?:{p})" for p in _FIELD_WORDS.values())
#: A paper's arXiv identifier or page asked for: "the arXiv id of SOAP", "arxiv link for MARS".
_ARXIV_FIELD = re.compile(
    r"\barxiv\s+(?:ids?|identifiers?|numbers?|links?|pages?|urls?|pdfs?|versions?)\b"
    # ... or of the paper just discussed: "what's the arxiv link?"
    rf"(?=\s+(?:of|for|to)\b|{_OWN_END})"
)
#: What the paper an order or a listing finds is about, asked after it: "which paper has the
#: most authors and what is it about?", "..., and summarize it". No topic: what it is about.
_ABOUT_IT = re.compile(
    r"[,;?]?\s*\band\s+(?:what(?:'s|\s+is|\s+are|\s+does|\s+do)\s+(?:it|that|they|this)"
    r"(?:\s+(?:one|paper))?(?:\s+(?:about|do|propose|say|find|show|study))?"
    r"|(?:please\s+)?(?:summari[sz]e|describe|explain)\s+(?:it|them|that(?:\s+one)?)"
    r"|tell\s+me\s+(?:more\s+)?about\s+(?:it|them|that(?:\s+one)?))\s*[?.!]*\s*$"
)
#: An identifier a paper gives, then the year of the papers: "with an arXiv id from 2024".
_ID_THEN_DATE = re.compile(
    r"\b(?:with|having|(?:that |which )?(?:have|has|give|gives))\s+(?:an? |the |their |its )?"
    rf"(?P<f>{_FIELD_WORDS['doi']}|{_FIELD_WORDS['arxiv_id']})"
    r"(?=\s+(?:from|in|since|before|after|during)\s+(?:19|20)\d\d\b)"
)
#: Code asked for as a field: "with code", "that release their code", "a GitHub link",
#: "whose code is available"; "without code", "that don't release code" (``no``). Where
#: "code" ends the phrase: "code generation" and "code changes" are topics.
_CODE_THING = (
    r"(?:an?\s+|the\s+|their\s+|its\s+|any\s+|some\s+|public(?:ly\s+available)?\s+"
    r"|open[- ]source\s+|released\s+|source\s+|both\s+)*"
    r"(?:code(?:\s*(?:links?|repos?|repositor(?:y|ies)|bases?))?|implementations?"
    r"|github\s+(?:links?|repos?|repositor(?:y|ies)|pages?)|codebases?)"
    r"(?:\s+(?:publicly\s+)?(?:available|released|online|public))?"
    r"(?=\s*(?:$|[?.!,;)]|(?:and|or|but|that|which|for|on|in|from|at|to|about|published|posted"
    r"|per|by|each|since|before|after|until|during|within|with|than|have|has|had|are|is|were"
    r"|was|got|get|do|does|did|appear(?:ed)?|received?)\b))"
)
#: One paper asked about before "have code": "does it", "does this paper", "has the paper".
_OF_ONE = re.compile(
    r"\b(?:does|did|do|is|has)\s+(?:it|this|that|the\s+paper|(?:this|that)\s+(?:paper|one))\s*$"
    # ... or of one paper named: "Does MARS have code?" (not "does any paper ...")
    r"|^\W*(?:does|did|has)\s+(?!(?:any|some|every|each|one|a|an|anyone|anybody|which|papers?)\b)"
    r"[^\s?]+(?:\s+[^\s?]+){0,4}?\s*$"
)
_CODE_ASKED = re.compile(
    r"\b(?:mentions?|mentioning|links?\s+to|linking\s+to|point(?:s|ing)?\s+to)\s+(?:a\s+)?"
    r"github\b(?:\s+(?:repos?|repositor(?:y|ies)|pages?|links?))?"
    rf"|\b(?:(?P<no>without|with\s+no|no|lacking|(?:do|does|did)(?:n't|\s+not)\s+(?:release|share"
    r"|publish|provide|have|give|open[- ]source|make\s+available))"
    r"|with|having|has|have|give|gives|(?:release|share|publish|provide|open[- ]source)[sd]?"
    rf"|(?:make|makes|made)\s+available)\s+{_CODE_THING}"
    r"|\bwhose\s+code\s+(?:is|was)\s+(?:publicly\s+)?(?:available|released|open[- ]sourced)\b"
    # "make their code available", "made the code publicly available", "make code open source"
    r"|\b(?:make|makes|made|making)\s+(?:their\s+|its\s+|the\s+)?(?:source\s+)?code"
    r"\s+(?:publicly\s+|freely\s+)?(?:available|public|open[- ]source)\b"
)


def code_flipped(text: str) -> str | None:
    """``text`` asking for the papers on the other side of the code it asks for ("and which
    don't?" after "Which papers release code?"), or None where it asks for none.

    >>> [code_flipped(q) for q in ("Which papers release code?", "ICLR 2026 papers with code",
    ...     "papers without code", "papers on code generation")]
    ['Which papers without code?', 'ICLR 2026 papers without code', 'papers with code', None]
    """
    match = _CODE_ASKED.search(text.lower())
    if match is None:
        return None
    other = "with code" if match["no"] else "without code"
    return text[: match.start()] + other + text[match.end() :]


#: A DOI ("10.1234/abc", "doi:...", a doi.org link) or an arXiv identifier ("arXiv:2401.01234v2",
#: "2401.01234") in a question.
_IDENTIFIER = re.compile(
    r"(?:\bdoi:?\s*|https?://(?:dx\.)?doi\.org/)?(?P<doi>\b10\.\d{4,9}/[^\s\"'<>]+?)"
    r"(?=[?.,;!)]*(?:\s|$))"
    r"|(?:\barxiv(?:\.org/abs/|:|\s+id)?\s*|\babs/)?(?P<arxiv>\b\d{4}\.\d{4,5})(?:v\d+)?\b",
    re.IGNORECASE,
)


def _either(text: str, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether the names at ``spans`` of ``text`` are joined as either ("A or B", "A, B or C",
    "either A or by B"), not as both ("A and B").

    >>> text = "papers by Ada Lovelace or Alan Turing"
    >>> _either(text, [(10, 22), (26, 37)]), _either(text.replace(" or ", " and "), [(10, 22),
    ...     (27, 38)])
    (True, False)
    """
    between = " ".join(text[end:start] for (_, end), (start, _) in pairwise(spans))
    return bool(re.search(r"\bor\b", between, re.I)) and not re.search(r"\band\b", between, re.I)


def _identifier(text: str, found: dict[str, object], take: Taker) -> bool:
    """ "Which paper has the DOI 10.48550/arXiv.2401.01234?", "What is arXiv:2401.01234v2
    about?" -> the paper with that DOI or arXiv identifier (as the readers store them).

    >>> def read(q: str) -> dict[str, object]:
    ...     found: dict[str, object] = {}
    ...     _identifier(q, found, lambda *a, **k: None)
    ...     return found
    >>> read("Which paper has the DOI 10.48550/arXiv.2401.01234?")
    {'doi': '10.48550/arxiv.2401.01234'}
    >>> read("What is arXiv:2401.01234v2 about?"), read("papers from 2024.12")
    ({'arxiv_id': '2401.01234'}, {})
    """
    match = _IDENTIFIER.search(text)
    if match is None:
        return False
    doi = doi_of(match["doi"])
    if doi is not None:
        found["doi"] = doi
        take(match, "doi", doi)
    else:
        found["arxiv_id"] = match["arxiv"]
        take(match, "arxiv id", match["arxiv"])
    return True


_AND_FIELD = re.compile(rf"\s+and\s+(?:an? |their |its )?(?P<f>{_FIELDS})\b")


def _field_named(word: str) -> str:
    """The field a word of ``_FIELD_WORDS`` names: "undated" -> "date", "DOIs" -> "doi"."""
    return next(f for f, pattern in _FIELD_WORDS.items() if re.fullmatch(pattern, word))


_GENERIC_VENUE_WORDS = {"papers", "paper", "the", "of", "org", "machine", "learning", "and", "on"}


def _other_year(folded: str, venue: str) -> bool:
    """Whether the question gives ``venue``'s name with a year other than the venue's own
    ("iclr 2024", "iclr 24" against "ICLR 2026")."""
    own = re.search(r"\b((?:19|20)\d\d)\b", venue)
    if own is None:
        return False
    for word in _venue_words(venue):
        if word.isdigit():
            continue
        for match in re.finditer(rf" {re.escape(word)} (\d\d(?:\d\d)?) ", folded):
            year = match.group(1)
            if (year if len(year) == 4 else f"20{year}") != own.group(1):
                return True
    return False


def _venue_words(venue: str) -> set[str]:
    return {w for w in fold(venue).split() if w not in _GENERIC_VENUE_WORDS}


@functools.lru_cache(maxsize=1 << 12)  # every parse checks every venue, once per joined part
def _venue_triggers(venue: str) -> tuple[str, ...]:
    words = fold(venue).split()
    phrases = [
        " ".join(words[i:j])
        for i in range(len(words))
        for j in range(i + 2, len(words) + 1)
        if not set(words[i:j]) <= _GENERIC_VENUE_WORDS
    ]
    brands = [
        fold(raw)
        for raw in re.findall(r"[\w.]+", venue)
        if not raw.isdigit() and (any(c.isupper() for c in raw[1:]) or raw.isupper())
    ]
    # "the daily list": a word of the venue's name with the noun a listing goes by
    listed = [
        f"{word} {noun}"
        for word in words
        if word not in _GENERIC_VENUE_WORDS and not word.isdigit() and len(word) >= 4
        for noun in ("list", "listing", "page", "feed")
    ]
    singular = [phrase[:-1] for phrase in phrases if phrase.endswith(" papers")]  # "daily paper"
    return (*phrases, *singular, *listed, *(b.split()[0] for b in brands if b))


def number(token: str) -> int:
    """A count as written: "3" or "three"."""
    return int(token) if token.isdigit() else _NUMBERS[token.lower()]


def _bounds(cmp: str | None, n: int) -> tuple[int | None, int | None]:
    """(min, max) for "more than n", "at least n", ... ; a bare number is exact."""
    cmp = cmp or ""
    if re.fullmatch(_MORE, cmp):
        return n + 1, None
    if re.fullmatch(_LESS, cmp):
        return None, max(n - 1, 0)
    if re.fullmatch(_LEAST, cmp):
        return n, None
    if re.fullmatch(_MOST, cmp):
        return None, n
    return n, n


#: "Which one has ...", "which of the two got ...": one of a few papers asked for by a
#: comparative that follows (not "four or more", a count).
_WHICH_HAS = (
    r"\bwhich\b(?:[^?.!]{0,40}?)\b(?:has|had|have|got|gets|received|is|was)\b"
    r"(?:[^?.!]{0,16}?)(?<!\bor )\b"
)
#: The receipt's label of a number of papers asked for (no constraint on which).
ASKED_FOR = "papers asked for"
_LISTING_OF_ONE = f"{ASKED_FOR}: the listing and date of one paper"
#: A number of papers asked for, by a request or opening the question: "give me 3 papers on
#: X", "list five recent papers about Y", "top 5 papers on Z", "2 papers on W?" (not "the two
#: papers", which are named, nor "papers with 3 authors").
_ASKED_COUNT = re.compile(
    r"(?:^|\b(?:give|show|list|find|get|fetch|recommend|suggest|name|pick|want|need|are|"
    r"which|what)\b(?:\s+(?:me|us))?\s+)"
    # "the top 3 papers", "the 3 best papers"
    rf"(?:the\s+(?=top\s|{FEW}\s+(?:most\s+)?{_GOOD}\s))?"
    rf"(?P<said>(?:top\s+)?{_FEW})\s+(?:[a-z-]+\s+){{0,2}}?(?:papers?|articles?|works)\b"
)


#: A share of the papers asked for: "What proportion of papers have code?", "what fraction of
#: the papers are from ICLR 2026", "What percentage of papers are about RL?".
_SHARE = re.compile(
    r"\b(?:what|which)\s+(?:proportion|fraction|share|percentage|percent|part|ratio)\s+of\s+"
    rf"(?:the\s+|all\s+(?:the\s+)?|these\s+|our\s+)?{_PAPERS}\b"
    rf"|\bhow\s+many\s+percent\s+of\s+(?:the\s+|all\s+(?:the\s+)?)?{_PAPERS}\b"
)


def _asked_count(lowered: str, take: Taker) -> int | None:
    """How many papers ``lowered`` asks for, without an order (see ``_ASKED_COUNT``)."""
    match = _ASKED_COUNT.search(lowered)
    if match is None or not 0 < number(match.group("n")) <= 100:
        return None
    said = re.compile(r"(?:top\s+)?" + _FEW).match(lowered, match.start("said"))
    assert said is not None  # the group just matched there
    take(said, ASKED_FOR)
    return number(match.group("n"))


def _count(lowered: str, noun: str, field: str, found: dict[str, object], take: Taker) -> None:
    """ "more than 3 authors", "2 upvotes or more", "between 3 and 5 authors", "at least 10 but
    at most 30 upvotes" -> min_<field> / max_<field>. A bare year is a venue's or a date's, not
    a count ("the ICLR 2026 authors", "the 2024 listings")."""
    between = re.search(rf"\bbetween {_COUNT_LOW} and {_COUNT}\s+(?:{noun})\b", lowered)
    if between:
        low, high = sorted((number(between.group("a")), number(between.group("n"))))
        found[f"min_{field}"], found[f"max_{field}"] = low, high
        take(between, field)
        return
    # Two bounds joined: "at least 10 but at most 30 upvotes", "more than 2 and fewer than 6".
    joined = re.search(
        rf"\b(?P<cmp>{_MORE}|{_LEAST})\s+{_COUNT_LOW}\s*(?:{noun})?\s+"
        rf"(?:but|and)\s+(?P<cmp2>{_LESS}|{_MOST})\s+{_COUNT}\s+(?:{noun})\b",
        lowered,
    )
    if joined:
        found[f"min_{field}"] = _bounds(joined.group("cmp"), number(joined.group("a")))[0]
        found[f"max_{field}"] = _bounds(joined.group("cmp2"), number(joined.group("n")))[1]
        take(joined, field)
        return
    for match in re.finditer(
        rf"\b{_CMP}{_COUNT}(?P<mid> or (?:more|fewer|less)|\+)?\s+(?:{noun})\b"
        r"(?P<tail> or (?:more|fewer|less))?",
        lowered,
    ):
        tail = match.group("mid") or match.group("tail") or ""
        tail = "or more" if tail == "+" else tail  # "10+ authors"
        cmp = match.group("cmp") or tail.strip() or None
        if not cmp and re.fullmatch(_YEAR, match.group("n")):
            continue
        found[f"min_{field}"], found[f"max_{field}"] = _bounds(cmp, number(match.group("n")))
        take(match, field)
        return


#: A listing said to be a paper's only one: "only on Hugging Face Papers".
_ONLY_ON = re.compile(
    r"\b(?:only|exclusively|solely)\s+(?:on|in)\s+(?:the\s+)?(?P<rest>(?!\d)\S+(?:\s+\S+){0,3})"
)
#: A part of a year: "the second half of 2024", "Q1 2025", "early 2025", "the last three
#: months of 2024".
_PART_OF_YEAR = re.compile(
    rf"\b(?:the )?(?P<nth>first|1st|second|2nd|third|3rd|fourth|4th|last) "
    rf"(?P<unit>half|quarter) of (?P<y>{_YEAR})\b"
    rf"|\bq(?P<q>[1-4]),? (?P<qy>{_YEAR})\b"
    rf"|\b(?P<when>early|mid|late)[- ](?P<wy>{_YEAR})\b"
    rf"|\bthe (?P<end>first|last) {_COUNT} months of (?P<my>{_YEAR})\b"
    # The northern seasons; winter (December to February) is left alone: which year's?
    rf"|\b(?:the )?(?P<season>spring|summer|autumn|fall)(?: of)? (?P<sy>{_YEAR})\b"
    # "the end of 2025", "the beginning of 2024" (the thirds of early, mid and late), "H1 2025"
    rf"|\bthe (?P<edge>beginning|start|middle|end) of (?P<ey>{_YEAR})\b"
    rf"|\bh(?P<h>[12]),? (?P<hy>{_YEAR})\b"
)
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9}  # first month of each
#: Papers asked for as a conference's: "conference papers", "peer-reviewed work", "papers
#: presented at conferences".
_CONFERENCE_PAPERS = re.compile(
    r"\b(?:conference|peer[- ]reviewed)\s+(?:papers?|works?|publications?|articles?)\b"
    r"|\b(?:from|at|in|to)\s+(?:a\s+|any\s+)?(?:conferences?|peer[- ]reviewed\s+venues?)\b"
)
#: A listing left out before its name: "non-ICLR papers", "outside the daily list".
_LEFT_OUT = re.compile(
    r"\b(?:non-|outside(?:\s+of)?\s+(?:the\s+)?|not\s+in\s+(?:the\s+)?)"
    r"(?P<rest>\S+(?:\s+\S+){0,3})",
    re.IGNORECASE,
)
_ANY = re.compile(r"[\s\S]+")
_LISTING_NOUNS = frozenset(["list", "listing", "page", "feed"])
#: The place an adjective of nationality names, folded as _world_places has it. Hand-kept: the
#: country table tzdata ships gives names alone, and no dependency here gives demonyms.
_NATIONALITIES = {
    "american": "united states",
    "us": "united states",
    "u.s.": "united states",
    "british": "united kingdom",
    "uk": "united kingdom",
    "english": "england",
    "scottish": "scotland",
    "chinese": "china",
    "japanese": "japan",
    "korean": "south korea",
    "south korean": "south korea",
    "indian": "india",
    "german": "germany",
    "french": "france",
    "italian": "italy",
    "spanish": "spain",
    "portuguese": "portugal",
    "dutch": "netherlands",
    "belgian": "belgium",
    "swiss": "switzerland",
    "austrian": "austria",
    "swedish": "sweden",
    "danish": "denmark",
    "norwegian": "norway",
    "finnish": "finland",
    "polish": "poland",
    "irish": "ireland",
    "israeli": "israel",
    "jordanian": "jordan",
    "turkish": "turkey",
    "iranian": "iran",
    "russian": "russia",
    "canadian": "canada",
    "mexican": "mexico",
    "brazilian": "brazil",
    "australian": "australia",
    "singaporean": "singapore",
    "taiwanese": "taiwan",
    "european": "europe",
    "asian": "asia",
    "african": "africa",
    "north american": "north america",
    "latin american": "latin america",
}
#: Authors named by nationality: "by Chinese authors", "from German universities", "Swiss
#: labs' papers".
_NATIONALITY = re.compile(
    r"\b(?:(?:by|from|of|with)\s+(?:the\s+)?)?(?P<adj>"
    + "|".join(re.escape(a) for a in sorted(_NATIONALITIES, key=len, reverse=True))
    + r")(?:[- ]based)?\s+(?:authors?|co-?authors?|researchers?|scientists?|academics?|papers?"
    r"|universit(?:y|ies)|institutions?|institutes?|labs?|laborator(?:y|ies)|teams?|groups?"
    r"|compan(?:y|ies)|organi[sz]ations?)\b"
)
#: A place after the word that introduces it, as up to five words (the longest naming one
#: is read: QueryParser._region).
_PLACE_AFTER = re.compile(
    r"\b(?:from|in|based in|located in|out of|at)\s+(?:the\s+)?"
    r"(?P<place>[a-z][a-z'-]*(?:\s+[a-z][a-z'-]*){0,4})"
)
#: Two places joined: "from both Asia and North America" (papers from each), "in Europe or
#: Asia" (from either; so is "and" without "both", as with venues). Neither takes "and" or "or".
_PLACE_WORDS = r"(?!(?:and|or)\b)[a-z][a-z'-]*(?:\s+(?!(?:and|or)\b)[a-z][a-z'-]*){0,4}"
_TWO_PLACES = re.compile(
    r"\b(?:from|in|based in|located in|out of|at)\s+(?P<both>both\s+|either\s+)?(?:the\s+)?"
    rf"(?P<place>{_PLACE_WORDS}),?\s+(?:and|or|&)\s+(?:(?:from|in)\s+)?(?:the\s+)?"
    rf"(?P<second>{_PLACE_WORDS})"
)
#: Places a question may name that no paper gives, beyond the world's countries: continents,
#: regions and the short names people use.
_MORE_PLACES = (
    "Africa",
    "Asia",
    "Europe",
    "North America",
    "South America",
    "Latin America",
    "Oceania",
    "Middle East",
    "Scandinavia",
    "UK",
    "USA",
    "England",
    "Scotland",
    "Wales",
    "South Korea",
    "North Korea",
)
#: Places said by their short names, folded, to the names papers give (folded).
_SHORT_PLACES = {
    "us": "united states",
    "u s": "united states",
    "usa": "united states",
    "u s a": "united states",
    "uk": "united kingdom",
    "u k": "united kingdom",
    "britain": "united kingdom",
    "great britain": "united kingdom",
}
#: A place read as where a paper comes from: after "from", "based in", "authors in"...
_FROM_PLACE = (
    r"\b(?:from|based in|located in|out of|(?:authors?|researchers?|written|published|"
    r"institutions?|universit(?:y|ies)|labs?)\s+in)\s+(?:the\s+)?(?P<place>{places})\b"
)


@functools.cache
def _world_places() -> frozenset[str]:
    """The world's countries and continents, lower case. The countries are those of ISO 3166
    as tzdata lists them (zoneinfo/iso3166.tab), parentheses left out ("Korea (South)" is
    "Korea"); a hand-kept list would age."""
    table = importlib.resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text()
    names = [row.split("\t")[1] for row in table.splitlines() if "\t" in row and row[0] != "#"]
    names = [re.sub(r"\s*\(.*", "", name).strip() for name in [*names, *_MORE_PLACES]]
    return frozenset(n.lower() for n in names if re.fullmatch(r"[A-Za-z][A-Za-z' -]+", n))


@functools.cache
def _place_named() -> re.Pattern[str]:
    """Where a question says a paper comes from, as a country or continent (for one no paper
    gives)."""
    alternatives = "|".join(re.escape(name) for name in sorted(_world_places(), key=len)[::-1])
    return re.compile(_FROM_PLACE.format(places=alternatives))


_NTH = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
_NTH.update({"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5})


_THIRDS = {"early": 0, "beginning": 0, "start": 0, "mid": 1, "middle": 1, "late": 2, "end": 2}


def _part_of_year(match: re.Match[str]) -> tuple[int, int, int]:
    """(year, first month, last month) of a match of _PART_OF_YEAR: early, mid and late are
    its thirds."""
    if match.group("unit"):
        size = 6 if match.group("unit") == "half" else 3
        nth = _NTH.get(match.group("nth"), 12 // size)  # "last"
        return int(match.group("y")), (nth - 1) * size + 1, nth * size
    if match.group("q"):
        quarter = int(match.group("q"))
        return int(match.group("qy")), quarter * 3 - 2, quarter * 3
    if match.group("season"):
        first = _SEASONS[match.group("season")]
        return int(match.group("sy")), first, first + 2
    if match.group("when") or match.group("edge"):
        third = _THIRDS[match.group("when") or match.group("edge")]
        return int(match.group("wy") or match.group("ey")), third * 4 + 1, third * 4 + 4
    if match.group("h"):
        half = int(match.group("h"))
        return int(match.group("hy")), half * 6 - 5, half * 6
    months = min(max(number(match.group("n")), 1), 12)
    first = 1 if match.group("end") == "first" else 13 - months
    return int(match.group("my")), first, first + months - 1


_RELATIVE = re.compile(
    rf"\b(?:(?:in|over|during|within|from|of) )?the (?:last|past|previous) (?:{_COUNT} )?"
    r"(?P<unit>decades?|years?|months?|weeks?|days?)\b"
    r"|\b(?P<which>last|previous|this|current) (?P<span>decade|year|month)\b"
)


#: A season said from today: "this spring", "last summer", "during the past winter".
_SEASON_NOW = re.compile(
    r"\b(?:(?:in|during|from|over|since) )?(?:the )?(?P<which>this|last|past|previous) "
    r"(?P<season>spring|summer|autumn|fall|winter)\b"
)


#: A decade: "the 2010s", "in the early 2020s", "before the 1990s", "2010s papers".
_DECADE = re.compile(
    r"\b(?:(?P<bound>before|after|since|in|from|during|of) )?(?:the )?"
    r"(?:(?P<when>early|mid|late)[- ](?:the )?)?(?P<decade>(?:19|20)\d0)'?s\b"
)


def _decade(match: re.Match[str]) -> tuple[str | None, str | None]:
    """(since, until) of a match of _DECADE: early, mid and late are its first four, middle
    three and last three years.

    >>> [_decade(_DECADE.search(q)) for q in ("papers from the 2010s", "the early 2020s",
    ...     "before the 1990s", "since the late 2010s")]  # doctest: +NORMALIZE_WHITESPACE
    [('2010', '2019'), ('2020', '2023'), (None, '1989'), ('2017', None)]
    """
    decade = int(match["decade"])
    first, last = {"early": (0, 3), "mid": (4, 6), "late": (7, 9)}.get(match["when"], (0, 9))
    since, until = iso_date(decade + first), iso_date(decade + last)
    if match["bound"] == "before":
        return None, iso_date(decade + first - 1)
    if match["bound"] == "after":
        return iso_date(decade + last + 1), None
    return (since, None) if match["bound"] == "since" else (since, until)


#: A month said without its year: "papers from May", "posted in December", "this March",
#: "last October" (the latest one so named, by the day asked).
_MONTH_ALONE = re.compile(
    rf"\b(?:(?:in|from|during|posted in|published in|dated)(?: the month of)? "
    rf"|(?P<which>this|last|past|previous) )(?P<month>{_MONTH})\b(?!\.?,? *(?:\d|')|-)"
)


def _month_alone(
    match: re.Match[str], text: str, today: datetime.date, held: Iterable[str] = ()
) -> tuple[int, int] | None:
    """(year, month) of a month a question names without its year: "in May" is the latest
    May papers are dated in (``held``, YYYY-MM) by ``today``, else the latest by ``today``;
    "this" and "last" count from ``today`` alone. None for "may" not written "May" (the verb:
    "work in may help").

    >>> today = datetime.date(2026, 12, 6)
    >>> [_month_alone(_MONTH_ALONE.search(q.lower()), q, today, ["2025-12", "2024-05"])
    ...     for q in ("papers from May", "in December", "last December", "this March",
    ...     "in June", "work in may help")]
    [(2024, 5), (2025, 12), (2025, 12), (2026, 3), (2026, 6), None]
    """
    name = match["month"]
    if name == "may" and text[match.start("month") : match.end("month")] != "May":
        return None
    month = MONTHS[name]
    year = today.year - (month > today.month)
    if match["which"] in ("last", "past", "previous") and month == today.month:
        year -= 1  # "last December", asked in December: the one a year ago
    elif match["which"] is None:
        dated = [m for m in held if int(m[5:7]) == month and m <= iso_date(year, month)]
        year = int(max(dated)[:4]) if dated else year
    return year, month


def _season_now(which: str, season: str, today: datetime.date) -> tuple[str, str]:
    """(since, until) of "this spring" (the one of this year, or the winter under way) or
    "last spring" (the latest one over by ``today``).

    >>> today = datetime.date(2026, 12, 6)
    >>> [_season_now(w, s, today) for w, s in (("this", "spring"), ("last", "winter"),
    ...     ("this", "winter"), ("last", "fall"))]  # doctest: +NORMALIZE_WHITESPACE
    [('2026-03', '2026-05'), ('2025-12', '2026-02'), ('2026-12', '2027-02'),
     ('2026-09', '2026-11')]
    """
    first = {**_SEASONS, "winter": 12}[season]

    def span(year: int) -> tuple[tuple[int, int], tuple[int, int]]:
        end = first + 2
        return (year, first), (year + (end - 1) // 12, (end - 1) % 12 + 1)

    year = today.year - (first == 12 and today.month <= 2)  # the winter that began last year
    if which != "this" and span(year)[1] >= (today.year, today.month):
        year -= 1  # not over yet: the one before
    (y1, m1), (y2, m2) = span(year)
    return iso_date(y1, m1), iso_date(y2, m2)


def _relative_dates(
    text: str,
    lowered: str,
    found: dict[str, object],
    take: Taker,
    today: datetime.date,
    held: Iterable[str],
) -> None:
    """ "in the past two years", "the last 6 months" (counted back from ``today``), "last
    year", "this month" (the calendar year or month), "this spring", "in May" -> since /
    until."""
    alone = _MONTH_ALONE.search(lowered)
    named = _month_alone(alone, text, today, held) if alone else None
    if alone and named:
        found["since"] = found["until"] = iso_date(*named)
        # The year it is read in is said: "May" alone could be any year's.
        take(alone, "dates", f"{text[slice(*alone.span())].strip()} ({named[0]})")
        return
    season = _SEASON_NOW.search(lowered)
    if season:
        found["since"], found["until"] = _season_now(season["which"], season["season"], today)
        take(season, "dates")
        return
    match = _RELATIVE.search(lowered)
    if not match:
        return
    if match.group("unit"):
        n = number(match.group("n")) if match.group("n") else 1
        unit = match.group("unit").rstrip("s")
        if unit in ("day", "week"):
            found["since"] = (
                today - datetime.timedelta(days=n * (7 if unit == "week" else 1))
            ).isoformat()
        else:
            months = {"decade": 120, "year": 12}.get(unit, 1)
            back = _shift(today.year, today.month, None, -n * months)
            found["since"] = f"{back}-{min(today.day, 28):02d}"
    elif match.group("span") == "decade":  # "this decade": the 2020s; "last decade": the 2010s
        start = today.year // 10 * 10 - (10 if match.group("which") in ("last", "previous") else 0)
        found["since"], found["until"] = iso_date(start), iso_date(start + 9)
    else:
        step = 0 if match.group("which") in ("this", "current") else -1
        month = today.month if match.group("span") == "month" else None
        found["since"] = found["until"] = _shift(today.year, month, None, step)
    take(match, "dates")


def _date_value(match: re.Match[str], prefix: str) -> tuple[int, int | None, int | None]:
    year = int(match.group(f"{prefix}y"))
    month_name = match.group(f"{prefix}m")
    digits = match.group(f"{prefix}mm")
    month = MONTHS[month_name.lower()] if month_name else (int(digits) if digits else None)
    day = match.group(f"{prefix}dd")
    return year, month, int(day) if day and month else None


def _shift(year: int, month: int | None, day: int | None, step: int) -> str:
    """The day, month or year just before (step=-1) or after (step=1) the one given."""
    if day and month:
        with contextlib.suppress(ValueError):
            return (datetime.date(year, month, day) + datetime.timedelta(days=step)).isoformat()
        return iso_date(year, month, day)
    if month is None:
        return iso_date(year + step, None)
    index = year * 12 + (month - 1) + step
    return iso_date(index // 12, index % 12 + 1)


_NO_DATE = "its paper gives no date"
#: "What's new in SOAP?", "what is novel about the rotation trick paper": what a paper brings,
#: where it names one; "What's new in reinforcement learning?" asks for the newest papers.
_NEW_IN = re.compile(
    r"\bwhat(?:'s|s|\s+is)\s+(?:new|novel)\s+(?:in|about|with)\s+(?P<rest>[^?.!,;]+)"
)
_ONE_PAPER_NAMED = re.compile(r"(?:(?:the|this|that)\b.*\bpaper\b|(?:it|this|that)\b)")
#: A date relative to a paper: "newer than Hi-Agent", "before the Hi-Agent paper" (up to six
#: words of the paper's name follow).
_THAN_PAPER = re.compile(
    r"\b(?P<op>before|after|earlier than|later than|newer than|older than|more recent than"
    r"|prior to) (?P<rest>[\w.^$-]+(?: [\w.^$-]+){0,5})"
)


class QueryParser:
    """Parses questions against one collection's vocabulary."""

    def __init__(
        self,
        papers: Sequence[Paper],
        vocab: Vocabulary | None = None,
        today: datetime.date | None = None,
    ) -> None:
        self.vocab = vocab if vocab is not None else Vocabulary.build(papers)
        # What "last year" and "the past six months" count from: the day asked, unless given.
        self.today = today

    @functools.cached_property
    def words(self) -> frozenset[str]:
        """The words this parser knows beyond the papers' texts, folded: those framing a
        metadata question ("papers", "authors") and those of the collection's names, venues,
        labels and places. A typo is read as one of them ("papwrs"); none is read as a typo."""
        vocab = self.vocab
        named = [
            *vocab.names,
            *vocab.surnames,
            *map(fold, vocab.venues),
            *vocab.categories,
            *map(fold, vocab.organizations),
            *vocab.regions,
        ]
        return _SCAFFOLD | {word for phrase in named for word in _WORD.findall(phrase)}

    def _listing_or_date(self, text: str) -> bool:
        """True when ``text`` names a year or a word of a listing ("from ICLR", "in 2024")."""
        said = set(_WORD.findall(fold(text)))
        listed = {w for venue in self.vocab.venues for w in _WORD.findall(fold(venue))}
        return bool(_YEAR_SAID.search(text) or said & (listed | _LISTING_WORDS))

    def extended(self, papers: Sequence[Paper]) -> QueryParser:
        """A parser that also knows the names, venues and labels of ``papers`` (building one
        for 100k papers takes 3 s; names of papers removed since stay known until then)."""
        return QueryParser([], self.vocab.extended(papers), self.today)

    def parse(self, question: str, usage: Callable[[str], int] | None = None) -> Query:
        """The constraints ``question`` states and the topic left once they are taken out.

        ``usage`` counts the papers whose title or abstract uses a word: given it, a surname
        alone is read as an author ("What did Fortuin publish?") when no paper uses it as a
        word, so that "Newton" in "Newton-Schulz" stays a topic.
        """
        text = " ".join(question.split())
        one = _listing_asked_of_one(text)
        if one is not None and self._listing_or_date(one["asked"]):
            # "Is MARS from ICLR?": MARS's listing asked, not a filter ("Is MARS an
            # optimizer?" asks neither, and is read as it stands)
            topic = text[: one.start("asked")].strip()
            return Query(text=text, topic=topic, recognised=[_LISTING_OF_ONE])
        found: dict[str, object] = {}
        recognised: list[str] = []
        spans: list[tuple[int, int]] = []
        lowered = text.lower()

        def take(match: re.Match[str], label: str, said: str | None = None) -> None:
            spans.append(match.span())
            # The words themselves, without the punctuation the span takes along ("said").
            if said is None:
                said = match.group("said") if "said" in match.re.groupindex else match.group(0)
            recognised.append(f"{label}: {said.strip()}")

        excluded, dated = _excluded(text, take, spans)
        excluded += self._listing_left_out(text, take)
        titled = _in_title(text, take)
        if titled:  # "with transformer in the title": the title's words, not the topic
            found["titled"] = titled
            lowered = _blanked(lowered, spans)
        opens = _TITLE_OPENS.search(text)
        if opens:  # "whose title starts with Towards": it had been searched, and refused
            found["title_opens"] = (opens["quoted"] or opens["said"]).strip()
            take(opens, "title opens with", str(found["title_opens"]))
            lowered = _blanked(lowered, spans)
        if excluded:
            # A listing left out by the name people use ("but not the daily list") is left
            # out by its own name, which its papers carry.
            found["excluding"] = [self._venue(p.lower(), []) or p for p in excluded]
        if excluded or dated:
            # Read as an exclusion, the clause is not read again ("not on arXiv" is no venue).
            lowered = _blanked(lowered, spans)
        unread: dict[str, str] = dict.fromkeys(dated, "no filter leaves out a date")
        if self._code(lowered, found, take):  # "How many papers have code per year?"
            lowered = _blanked(lowered, spans)
        tally = _tally(lowered, take)
        if tally is not None:  # "the most papers" is no order of papers
            lowered = _blanked(lowered, spans)
        novelty = _NEW_IN.search(lowered)
        if novelty and (
            _ONE_PAPER_NAMED.match(novelty.group("rest"))
            or self._paper_at(novelty.group("rest")) is not None
        ):
            sort = None  # "What's new in SOAP?" asks what that paper brings
        else:
            sort = self._sort(lowered, take)
        share = _SHARE.search(lowered)
        if share:  # "What proportion of papers have code?": said as a share of all of them
            take(share, ASKED_FOR, "a share of all papers")
            lowered = _blanked(lowered, spans)
            if tally is None:  # "... are about RL?": counted over those mentioning it
                tally = Tally(key="listing", mode="total")
                recognised.append(f"count: {tally.phrase()}")
        count = None if sort is not None or tally is not None else _asked_count(lowered, take)
        before_missing = len(spans)
        self._missing(lowered, found, take)
        # "without an arXiv id" names no listing either (it had kept the arXiv listing's papers)
        lowered = _blanked(lowered, spans[before_missing:])
        given = self._present(lowered, found, take)
        if _identifier(lowered, found, take) or given:
            # "an arXiv id", "arXiv:2401.01234" name no listing
            lowered = _blanked(lowered, spans)
        about_it = _ABOUT_IT.search(lowered)
        if about_it:
            spans.append(about_it.span())
            lowered = _blanked(lowered, spans)
        for asked_of in _ARXIV_FIELD.finditer(lowered):
            # "What's the arXiv id of SOAP?", "arxiv link for MARS": asked of a paper, which
            # names no listing either (it had kept the arXiv listing's papers alone)
            spans.append(asked_of.span())
            lowered = _blanked(lowered, spans)
        self._author_counts(lowered, found, take)
        self._upvotes(lowered, found, take)
        self._dates(text, lowered, found, take, self.today or datetime.date.today())
        if not {"since", "until"} & found.keys():
            unread.update(self._than_paper(text, lowered, found, take))
        uncategorised = self._category(text, lowered, found, take, spans)
        # "by Chinese authors": a place, read first, so that no organization is named by it
        unread.update(self._nationality(text, lowered, found, take, spans))
        self._organization(lowered, found, take)
        if "organization" not in found:
            unread.update(self._unknown_organization(text, spans, usage))
        if "region" not in found:
            unread.update(self._region(text, lowered, found, take))
        if not {"region", "regions", "any_region"} & found.keys():
            unread.update(self._unknown_place(text, lowered, spans))
        _count(lowered, r"(?:venues?|listings?|lists?|sources?)", "listings", found, take)
        unread.update(self._conferences(text, _blanked(lowered, spans), found, take, spans))
        several = re.search(
            # "on both Hugging Face lists": the venue's words may stand between.
            r"\b(?:(?:multiple|several|many)|both(?: the)?(?: [a-z0-9.-]+){0,3}?) "
            r"(?:venues|listings|lists|sources)\b",
            lowered,
        )
        two, every = self._two_venues(lowered, spans)
        venue = None if two else self._venue(lowered, spans)
        alike = [v for v in self.vocab.venues if venue and fold(venue) in fold(v)]
        if several and several.group(0).startswith("both") and len(alike) == 2:
            # "on both Hugging Face lists": the two listings the name is common to.
            two, every, venue = alike, True, None
        elif several and "min_listings" not in found:
            found["min_listings"] = 2
            take(several, "listings")
        if two:
            found["venues" if every else "any_venue"] = two
            recognised.append(f"venues, {'all' if every else 'any'} of: {', '.join(two)}")
        elif venue:
            found["venue"] = venue
            recognised.append(f"venue: {venue}")
            alone = _ONLY_ON.search(lowered)
            if alone and "max_listings" not in found and self._venue(alone["rest"], []) == venue:
                # "Which papers are only on Hugging Face Papers?": on no other listing
                found["max_listings"] = 1
                take(alone, "listings", "on no other listing")
        if tally is None:
            tally = _of_two(lowered, found, take)
        # One no paper gives, also beside one they give ("at both ICLR and NeurIPS").
        unread.update(self._unknown_venue(text, spans))
        unread.update(uncategorised)
        named_from = len(spans)
        authors = self._authors(text, spans, usage)
        if len(authors) > 1 and _either(text, sorted(spans[named_from:])):
            # "papers by Haoli Bai or Silin Gao": by one of them (by both, none had matched).
            found["any_author"] = authors
            recognised.append("authors, any of: " + ", ".join(authors))
        elif authors:
            found["authors"] = authors
            recognised.append("authors: " + ", ".join(authors))
        if authors:
            # "papers where Neel Nanda is the last author", "papers by Macar et al.": the
            # author's papers, the rest no topic (searched, it had left them uncertain)
            for role in _AUTHOR_ROLE.finditer(_blanked(text, spans)):
                said = role.group("role") or role.group("role2")
                if said:
                    unread[said] = _NO_ROLE
                spans.append(role.span())
        averaged: Literal["authors", "upvotes"] | None = None
        for average in _AVERAGE.finditer(_blanked(text, spans)):
            # "What is the average number of authors?": over the papers matching the rest; of
            # a field with no number ("the mean year", "citations"), said unread. Neither is
            # searched as a topic.
            said = average.group(0).lower()
            field: Literal["authors", "upvotes"] | None = (
                "authors" if "author" in said else "upvotes" if "vote" in said else None
            )
            if field is not None and averaged is None:
                averaged = field
                take(average, ASKED_FOR, f"the average number of {field}")
            else:
                unread[average.group(0)] = _NO_AVERAGE
                spans.append(average.span())
        for length in _LENGTH.finditer(_blanked(text, spans)):
            # "Which paper has the longest abstract?": said, and not searched as a topic.
            unread[length.group(0)] = _NO_LENGTH
            spans.append(length.span())
        topic = _blanked(text, spans)
        themes = _THEMES_ASKED.search(topic.lower()) if tally is None else None
        if themes:  # "What topics do the ICLR 2026 papers cover?": of those the rest keeps
            tally = Tally(key="listing", mode="total", themes=True)
            take(themes, "count", tally.phrase())
            topic = _blanked(text, spans)
        unheld = list(_UNHELD.finditer(topic))
        for match in unheld:
            said = re.sub(r"^(?:(?:with|having|the)\s+)+", "", match.group(0), flags=re.I)
            unread[said] = _NO_FIELD
        rest = [*spans, *(match.span() for match in unheld)]
        if unheld and subject_of(without_request(_blanked(text, rest))):
            # Out of the topic only where one is left: a question asking nothing else ("Which
            # papers have more than 100 citations?") is searched as asked, never refused.
            spans[:] = rest
            topic = _blanked(text, spans)
        unread.update(
            (m.group(0), "") for m in _UNREAD.finditer(_blanked(topic, [u.span() for u in unheld]))
        )
        unread.update((m.group(0), _NO_REFERENCES) for m in _CITING.finditer(topic))

        unread.update(
            (m.group(0), "years before 1900 are not read as dates")
            for m in _OLD_YEAR.finditer(topic)
        )
        subject = subject_of(topic)
        total = tally is not None and tally.mode == "total"
        if total and not (tally and tally.themes) and (sort or (found and not subject)):
            # "How many papers from 2025?": a listing that says how many match.
            assert tally is not None
            recognised.remove(f"count: {tally.phrase()}")
            tally = None
        elif tally is not None and subject:
            # "Which venue has the most papers about diffusion?", "How many papers are about
            # pruning?": counted over the papers whose title or abstract mentions the topic, a
            # set the answer names (which papers are "about" a topic is otherwise a ranking,
            # with no edge to count to).
            recognised.append(f"mentioning: {said_parts(subject_parts(topic), quote='')}")
        return Query(
            unread=list(unread),
            unread_reasons={phrase: why for phrase, why in unread.items() if why},
            text=text,
            # What a clause taken from the front leaves ("Sort by date: papers on X") goes too.
            topic=" ".join(topic.split()).lstrip(":;,. "),
            filters=Filters.model_validate(found),
            sort=sort,
            tally=tally,
            count=count,
            share=share is not None,
            average=averaged,
            recognised=recognised,
        )

    # -- the pieces -------------------------------------------------------------------------

    @staticmethod
    def _sort(lowered: str, take: Taker) -> Sort | None:
        rules = [
            # An order asked by its field: "sort them by number of authors", "rank by upvotes"
            # (largest first, unless it says otherwise: "..., fewest first", "ascending").
            (
                rf"{_SORT_BY}(?:(?:the\s+)?number\s+of\s+(?:co-?)?authors|(?:co-?)?author\s+counts?"
                r"|how\s+many\s+(?:co-?)?authors(?:\s+they\s+have)?|team\s+size|(?:co-?)?authors)"
                + _SORT_ASCENDING,
                "author_count",
                True,
            ),
            (
                rf"{_SORT_BY}(?:(?:the\s+)?number\s+of\s+(?:up)?votes|(?:up)?votes?"
                r"|(?:up)?vote\s+counts?|popularity)" + _SORT_ASCENDING,
                "upvotes",
                True,
            ),
            (
                r"\b(?:most|(?:largest|biggest|highest) number of) (?:co-?)?authors\b"
                r"|\b(?:largest|longest|biggest) (?:author list|list of authors)\b"
                # "the biggest team", "the most collaborators"
                r"|\b(?:largest|biggest) (?:team|group of authors)\b"
                r"|\bmost (?:collaborators|contributors)\b",
                "author_count",
                True,
            ),
            (
                r"\b(?:fewest|smallest number of|lowest number of) (?:co-?)?authors\b"
                r"|\b(?:smallest|shortest) (?:author list|list of authors)\b"
                r"|\bsmallest team\b|\bfewest (?:collaborators|contributors)\b",
                "author_count",
                False,
            ),
            (
                r"\b(?:most|highest|largest number of) (?:up)?votes\b|\bmost (?:up)?voted\b"
                r"|\bmost popular\b|\b(?:top|highest|best)[- ]voted\b|\bmost liked\b"
                # "What's trending on the daily list?"
                r"|\btrending\b|\bhottest\b",
                "upvotes",
                True,
            ),
            (r"\b(?:fewest|lowest) (?:up)?votes\b|\bleast (?:up)?voted\b", "upvotes", False),
            (
                # up to three words between: "the most recent ICLR 2026 papers"; or last: "which
                # papers on X are the newest?", "which of those is the most recent one?"
                rf"{_NOT_TO}\b(?:newest|latest|most recent)(?={_ORDER_NOUN})",
                "date",
                True,
            ),
            (rf"{_NOT_TO}\b(?:oldest|earliest)(?={_ORDER_NOUN})", "date", False),
            # "Which one came first?", "Which was published first?"
            (
                r"\bwhich\b(?:[^?.!]{0,40}?)\b(?:came(?: out)?|appeared"
                r"|(?:was|were) (?:published|posted|released))"
                r"\s+(?P<at>first|earlier|earliest|last|later|latest|most recently)\b",
                "date",
                False,
            ),
            # One of a few asked for by a comparative: "Which of them is newer?", "Which one
            # is more recent?", "Which of the two was published most recently?" (not "older
            # than 2020", a date).
            (
                r"\bwhich\b(?:[^?.!]{0,40}?)\b(?:is|was|are|were)\b(?:[^?.!]{0,24}?)"
                r"\b(?P<at>newer|more recent(?:ly)?|most recently|older|less recent)\b"
                r"(?!\s+than\b)",
                "date",
                False,
            ),
            # ... and by the other orders: "Which one has more authors?", "Which of the two
            # got fewer upvotes?", "Which of them is more popular?" (not "more than 5 authors").
            (
                rf"{_WHICH_HAS}(?P<at>more|fewer|less)\s+(?:co-?)?authors\b(?!\s+than\b)",
                "author_count",
                False,
            ),
            (
                rf"{_WHICH_HAS}(?:(?P<at>more|fewer|less)\s+(?:up)?votes"
                r"|(?P<more>more|less)\s+(?:popular|upvoted))\b(?!\s+than\b)",
                "upvotes",
                False,
            ),
            # "Anything recent on RLHF?", "something recent about pruning"
            # ... "What's new in reinforcement learning?"
            (
                r"\b(?:anything|something)\s+(?:new|recent)(?=\s+(?:on|about|in)\b)"
                r"|\bwhat(?:'s|s|\s+is)\s+new\s+(?:on|about|in|with)\b(?!\s+(?:19|20)\d\d\b)",
                "date",
                True,
            ),
            # A follow-up: "any newer ones?", "more recent papers?", "older ones".
            (rf"\b(?:newer|more recent)(?= (?:{_WORKS}|ones)\b)", "date", True),
            (rf"\bolder(?= (?:{_WORKS}|ones)\b)", "date", False),
        ]
        for pattern, key, descending in rules:
            match = re.search(pattern, lowered)
            if match:
                groups = match.groupdict()
                if groups.get("by"):
                    # "top 3 papers sorted by upvotes", said apart from the order; "ICLR 2026
                    # sorted by ..." is no count.
                    counted = re.search(rf"\btop\s+{_COUNT}\b", lowered)
                    if counted:
                        take(counted, "listed")
                    take(match, f"sort by {key}")
                else:
                    # How many, when it says: "the three newest papers", "the top 5 most
                    # upvoted", "newest 3 papers" (not "newest 2024 papers": a year is a date).
                    counted = re.search(
                        rf"\b(?:top\s+)?{_COUNT}\s+{re.escape(match.group(0))}", lowered
                    ) or re.search(rf"{re.escape(match.group(0))}\s+{_FEW}(?= \w)", lowered)
                    # "the second newest paper": that one alone (it had been searched for
                    # "second", and refused)
                    placed = re.search(
                        rf"\b(?P<nth>second|third|fourth|fifth|2nd|3rd|4th|5th)[- ]"
                        rf"{re.escape(match.group(0))}",
                        lowered,
                    )
                    if placed and not counted and not groups.get("at"):
                        take(placed, f"sort by {key}")
                        nth = _NTH[placed.group("nth")]
                        return Sort(key=key, descending=descending, place=nth)
                    take(counted or match, f"sort by {key}")
                count = number(counted.group("n")) if counted else None
                # "Which paper has the most authors?", "the newest paper": one paper asked
                # for, so the first and any tied with it.
                near = lowered[max(match.start() - 60, 0) : match.end() + 30]
                one = count is None and bool(
                    _ONE_PAPER.search(near) or _ONE_PAPER_ASKED.fullmatch(lowered)
                )
                if at := groups.get("at") or groups.get("more"):  # "Which came first?": one
                    descending, one = at.startswith(("la", "newer", "mo")), True
                if groups.get("ascending"):  # "sort by upvotes, fewest first"
                    descending = False
                return Sort(key=key, descending=descending, count=count or None, first=one)
        # An order stated as a clause of its own: "..., newest first", "sorted by date",
        # "from oldest to newest", "in chronological order" (oldest first, as a timeline).
        match = _ORDER_CLAUSE.search(lowered)
        if match:
            take(match, "sort by date")
            first = match.group("first") or match.group("then") or match.group("from") or ""
            ascending = first.startswith(("old", "ear")) or (
                "chronolog" in match.group(0) and "reverse" not in match.group(0)
            )
            return Sort(key="date", descending=not ascending)
        return None

    @staticmethod
    def _missing(lowered: str, found: dict[str, object], take: Taker) -> None:
        """ "without authors", "no date", "authors unknown", "undated" -> missing fields (after
        any read before them: "without code and without authors")."""
        missing = list(cast("list[str]", found.get("missing", [])))
        for match in re.finditer(
            rf"\b(?:without|with no|with(?:out)? any|lacking|lacks?|missing|having no|no"
            r"|(?:do|does|did)(?:n't|\s+not)\s+(?:list|give|have|state|name)(?:\s+any)?)\s+"
            rf"(?:an? |listed |known |stated |given )?(?P<f>{_FIELDS})\b"
            rf"|\b(?P<g>{_FIELDS})\s+(?:(?:is|are|was|were)\s+)?(?:missing|unknown|not "
            r"(?:listed|given|known|stated|recorded))\b|\b(?P<u>undated|anonymous)\b",
            lowered,
        ):
            name = _field_named(match.group("f") or match.group("g") or match.group("u"))
            if name not in missing:
                missing.append(name)
            take(match, f"missing {name}")
        if missing:
            found["missing"] = missing

    @staticmethod
    def _present(lowered: str, found: dict[str, object], take: Taker) -> bool:
        """ "Which papers have a DOI?", "papers that list their authors", "dated papers" ->
        fields a paper must give; not "have authors from Asia", "with the most authors" or
        "has the DOI 10.1234/...", which say more of the field.

        >>> def read(q: str) -> object:
        ...     found: dict[str, object] = {}
        ...     QueryParser._present(q.lower(), found, lambda *a, **k: None)
        ...     return found.get("present")
        >>> [read(q) for q in ("Which papers have a DOI?", "Which papers list their authors?",
        ...     "Which papers are dated?", "papers with categories and an arXiv id")]
        [['doi'], ['authors'], ['date'], ['categories', 'arxiv_id']]
        >>> [read(q) for q in ("papers with an arXiv id from 2024", "with a DOI in 2023")]
        [['arxiv_id'], ['doi']]
        >>> [read(q) for q in ("papers with authors from Asia", "papers with the most authors",
        ...     "Which paper has the DOI 10.1234/x?", "papers with dates in 2024", "no date")]
        [None, None, None, None, None]
        """
        present = list(cast("list[str]", found.get("present", [])))  # code, read before
        fields: list[re.Match[str]] = []
        for match in re.finditer(
            r"\b(?:with|having|(?:that |which )?(?:have|has|give|gives|list|lists|state|states"
            r"|carry|carries))\s+(?:an? |the |their |its |any |some )?(?:listed |known |stated "
            rf"|given )?(?P<f>{_FIELDS})\b(?!\s+(?:of|from|in|on|by|about|between|at|and "
            r"(?:a |an )?(?:\w+ )?(?:from|in))\b)(?!\s*:?\s*(?:10\.|\d))"
            r"|\b(?P<d>dated)(?= papers?\b)|\b(?:are|is|were|was) (?P<e>dated)(?=\s*[?.!]*\s*$)",
            lowered,
        ):
            # "with categories and an arXiv id": a second field after the first.
            fields += filter(None, (match, _AND_FIELD.match(lowered, match.end())))
        # "papers with an arXiv id from 2024": an identifier, then the date of the papers
        fields += _ID_THEN_DATE.finditer(lowered)
        for part in fields:
            name = _field_named(part.group("f") or "date")
            if name not in present and name not in found.get("missing", []):  # type: ignore[operator]
                present.append(name)
                take(part, f"has {name}")
        if present:
            found["present"] = present
        return bool(present)

    @staticmethod
    def _code(lowered: str, found: dict[str, object], take: Taker) -> bool:
        """ "papers with code", "Which papers release their code?", "has a GitHub link" ->
        papers whose abstract gives its code (see :func:`records.code_given`); "without code",
        "that don't release code" -> those whose abstract does not. Not "code generation" nor
        "without code changes", which are topics.

        >>> def read(q: str) -> tuple[object, object]:
        ...     found: dict[str, object] = {}
        ...     QueryParser._code(q.lower(), found, lambda *a, **k: None)
        ...     return found.get("present"), found.get("missing")
        >>> [read(q) for q in ("papers with code", "Which papers release their code?",
        ...     "Which paper has a GitHub link?", "diffusion papers whose code is available",
        ...     "Which papers with code have the most upvotes?", "papers with code per year")]
        ... # doctest: +NORMALIZE_WHITESPACE
        [(['code'], None), (['code'], None), (['code'], None), (['code'], None), (['code'], None),
         (['code'], None)]
        >>> read("Which papers have code and a DOI?")
        (['code', 'doi'], None)
        >>> [read(q) for q in ("papers without code", "Which papers don't release code?",
        ...     "which of them don't have code? (about: do any of them have code?)")]
        [(None, ['code']), (None, ['code']), (None, ['code'])]
        >>> [read(q) for q in ("LLMs with code generation", "fine-tuning without code changes",
        ...     "Which papers are about code?", "does it have code?", "Does this paper give code?")]
        [(None, None), (None, None), (None, None), (None, None), (None, None)]
        >>> [read(q) for q in ("Does MARS have code?", "does the SOAP paper release code?",
        ...     "Does any paper on RL release code?", "Do papers on RL have code?")]
        [(None, None), (None, None), (['code'], None), (['code'], None)]
        """
        # The first said: a follow-up's own words come before the question it narrows ("which
        # of them don't have code? (about: do any of them have code?)"). Asked of one paper,
        # "does it have code?" is no filter: the line naming it says.
        match = next(
            (m for m in _CODE_ASKED.finditer(lowered) if not _OF_ONE.search(lowered, 0, m.start())),
            None,
        )
        if match is None:
            return False
        key = "missing" if match["no"] else "present"
        fields: list[str] = found.setdefault(key, [])  # type: ignore[assignment]
        fields.append("code")
        take(match, f"{'missing' if match['no'] else 'has'} code")
        more = None if match["no"] else _AND_FIELD.match(lowered, match.end())
        if more is not None:  # "have code and a DOI": the DOI had been lost, no verb before it
            fields.append(_field_named(more.group("f")))
            take(more, f"has {fields[-1]}")
        return True

    @staticmethod
    def _author_counts(lowered: str, found: dict[str, object], take: Taker) -> None:
        if "authors" in found.get("missing", []):  # type: ignore[operator]
            return
        solo = re.search(
            r"\b(?:single|solo|sole|one)[- ]author(?:ed)?\b|\bsole author\b"
            r"|\b(?:by|with) (?:a single|one|only one|just one|a lone|a sole) "
            r"(?:author|person|researcher|writer)\b"
            # "solo papers by X", "authored solely by X", "papers X wrote alone": they had
            # listed X's papers with coauthors too
            r"|\bsolo (?=papers?\b)|\b(?:written|authored) (?:solely|alone)(?= by\b)"
            r"|\b(?:wrote|write|written|authored) (?:alone|solo|by (?:him|her|them)self)\b",
            lowered,
        )
        if solo:
            found["min_authors"] = found["max_authors"] = 1
            take(solo, "authors")
            return
        _count(
            lowered, r"(?:co-?)?authors?|people|persons|researchers|writers", "authors", found, take
        )

    @staticmethod
    def _upvotes(lowered: str, found: dict[str, object], take: Taker) -> None:
        if "upvotes" in found.get("missing", []):  # type: ignore[operator]
            return
        _count(lowered, r"(?:up)?votes?", "upvotes", found, take)

    def _dates(
        self, text: str, lowered: str, found: dict[str, object], take: Taker, today: datetime.date
    ) -> None:
        between = re.search(
            r"\bbetween " + _DATE.format(p="a") + r" and " + _DATE.format(p="b") + r"\b", lowered
        )
        if between:
            found["since"] = iso_date(*_date_value(between, "a"))
            found["until"] = iso_date(*_date_value(between, "b"))
            take(between, "dates")
            return
        # Two months of one year: "between March and May 2025", "from March to May 2025".
        months = re.search(
            rf"\b(?:between|from) (?P<first>{_MONTH}) (?:and|to|through|until) "
            rf"(?P<last>{_MONTH}),? (?P<year>{_YEAR})\b",
            lowered,
        )
        if months:
            year = int(months.group("year"))
            found["since"] = iso_date(year, MONTHS[months.group("first")], None)
            found["until"] = iso_date(year, MONTHS[months.group("last")], None)
            take(months, "dates")
            return
        # A year give or take one: "around 2024", "roughly 2020", "2024ish" (searched as
        # words, they had been refused)
        about = re.search(
            rf"\b(?:around|roughly|circa|approximately|ca\.) (?P<y>{_YEAR})\b"
            rf"|\b(?P<y2>{_YEAR})-?ish\b",
            lowered,
        )
        if about:
            year = int(about["y"] or about["y2"])
            found["since"], found["until"] = iso_date(year - 1), iso_date(year + 1)
            take(about, "dates", f"{about[0].strip()} ({year - 1} to {year + 1})")
            return
        decade = _DECADE.search(lowered)
        if decade:
            since, until = _decade(decade)
            found.update({k: v for k, v in (("since", since), ("until", until)) if v})
            take(decade, "dates")
            return
        # Years named as either: "from 2024 or 2025", "2024 or 2025?" (after a count per year),
        # "in 2018 or 2021", "2020, 2022 and 2024". The first alone had been read, the others
        # dropped. Years in a row are a span of dates; others, each of them.
        years = re.search(
            rf"\b(?:(?:in|from|during) )?(?P<list>{_YEAR}(?:(?:,| or| and)+ {_YEAR})+)\b", lowered
        )
        if years:
            named = sorted({int(y) for y in re.findall(r"\d{4}", years.group("list"))})
            if named[-1] - named[0] == len(named) - 1:
                found["since"] = iso_date(named[0], None, None)
                found["until"] = iso_date(named[-1], None, None)
            else:
                found["years"] = named
            take(years, "dates")
            return
        part = _PART_OF_YEAR.search(lowered)
        if part:
            year, first, last = _part_of_year(part)
            found["since"] = iso_date(year, first, None)
            found["until"] = iso_date(year, last, None)
            take(part, "dates")
            return
        # Open at one end after the date: "2025 or later", "2024 onwards", "2019 or earlier".
        ended = re.search(
            r"\b(?:(?:in|from|since|during) (?:the )?)?"
            + _DATE.format(p="x")
            # "from 2025 on" at the end only: "from 2025 on robots" is a topic
            + r"(?: (?:or|and) (?P<end>later|after|beyond|earlier|before)| onwards?\b| on(?=\W*$))",
            lowered,
        )
        if ended:
            year, month, day = _date_value(ended, "x")
            bound = "until" if ended.group("end") in ("earlier", "before") else "since"
            found[bound] = iso_date(year, month, day)
            take(ended, "dates")
            return
        for word, pattern in (
            # "older than 2020", "pre-2020 papers" ("pre-2020" had been 2020 itself)
            ("before", r"\b(?:(?:before|earlier than|prior to|older than) |pre-)"),
            ("after", r"\b(?:(?:after|later than|newer than|more recent than) |post-)"),
            ("since", r"\b(?:since|starting|starting from) "),
            ("until", r"\b(?:until|up to|through) "),
            # "from the year 2025"
            ("in", r"\b(?:in|from|during|of|posted|published|dated|on) (?:the )?(?:year )?"),
        ):
            match = re.search(pattern + _DATE.format(p="x") + r"\b", lowered)
            if not match:
                continue
            year, month, day = _date_value(match, "x")
            if word == "before":
                found["until"] = _shift(year, month, day, -1)
            elif word == "after":
                found["since"] = _shift(year, month, day, 1)
            elif word == "since":
                found["since"] = iso_date(year, month, day)
            elif word == "until":
                found["until"] = iso_date(year, month, day)
            else:
                found["since"] = found["until"] = iso_date(year, month, day)
            take(match, "dates")
            return
        # A date that qualifies the papers: "2024 papers on pruning", "March 2025 work", "the
        # 2025 ones", "2025 only", and "what about 2024?" (the year alone had been searched).
        for match in re.finditer(
            # ... "2025's papers on reasoning"
            r"\b" + _DATE.format(p="x") + rf"(?:'s)?(?= (?:[a-z][\w-]* )?(?:{_WORKS}|ones?)\b"
            r"| only\b)|(?<=\bonly )" + _DATE.format(p="y") + r"\b"
            r"|^\W*(?:and\s+)?(?:what|how)\s+about\s+" + _DATE.format(p="z") + r"(?=\W*$)",
            lowered,
        ):
            before = lowered[: match.start()].split()
            if before and re.fullmatch(rf"(?i:{_KNOWN_VENUES})", before[-1]):
                continue  # "NeurIPS 2023 papers": the year of a venue
            said = next(p for p in "xyz" if match.group(f"{p}y"))
            found["since"] = found["until"] = iso_date(*_date_value(match, said))
            take(match, "dates")
            return
        _relative_dates(text, lowered, found, take, today, self.vocab.months)

    def _paper_at(self, rest: str) -> tuple[str, str] | None:
        """The paper ``rest`` opens with, named by its title's head ("Hi-Agent", "the Hi-Agent
        paper"), as said there and as the head folded; None where it names none, or a head
        several titles share."""
        words = rest.split()
        for n in range(len(words), 0, -1):
            said = " ".join(words[:n])
            named = re.sub(r" paper$", "", said)
            if named == said and n < len(words) and words[n] == "paper":
                said = f"{said} paper"  # "the Hi-Agent paper"
            head = fold(named.removeprefix("the "))
            if self.vocab.heads.get(head) is not None:
                return said, head
        return None

    def _than_paper(
        self, text: str, lowered: str, found: dict[str, object], take: Taker
    ) -> dict[str, str]:
        """A date relative to a paper named by its title's head: "papers newer than Hi-Agent",
        "published before the Hi-Agent paper" are those dated after (before) that paper's day;
        one whose paper gives no date is said unread. Searched as words, these had found
        Hi-Agent's neighbours."""
        for match in _THAN_PAPER.finditer(lowered):
            named = self._paper_at(match.group("rest"))
            if named is not None:
                said, head = named
                date = self.vocab.heads[head]
                end = match.start("rest") + len(said)
                if not date:  # said as typed: "newer than SOAP"
                    return {text[match.start() : end]: _NO_DATE}
                year, *rest = date_key(date)
                month, day = (*rest, None, None)[:2]
                before = match.group("op") in ("before", "earlier than", "older than", "prior to")
                bound = _shift(year, month, day, -1 if before else 1)
                found["until" if before else "since"] = bound
                phrase = _ANY.match(lowered, match.start(), end)
                if phrase is not None:  # said as typed: "newer than Hi-Agent"
                    take(phrase, "dates", text[match.start() : end])
                return {}
        return {}

    def _category(
        self,
        text: str,
        lowered: str,
        found: dict[str, object],
        take: Taker,
        spans: list[tuple[int, int]],
    ) -> dict[str, str]:
        """A category the collection's papers carry ("tagged Education"), or one it names
        that no paper carries ("in the Robotics category"), with why it cannot filter; such a
        label stays in the topic, searched, and the words around it do not ("category" had
        found papers on "new categories")."""
        # "categorised as experimental studies": a label is read in the plural too.
        folded = f" {_singular_words(fold(lowered))} "
        said = bool(_CATEGORY_SAID.search(lowered))
        # Without a word for it, a whole label said last of papers: "Which ICLR 2026 papers are
        # experimental studies?" ("What is deep learning?" asks for no category).
        wanted = " {} " if said else r" (?:paper|work|article|which)\b.* (?:are|is)(?: an?)? {} $"
        best = max(
            (
                label
                for label in self.vocab.categories
                if re.search(wanted.format(_singular_words(label)), folded)
            ),
            key=len,
            default=None,
        )
        if best is None and not said:
            return {}
        if best is None:
            named = _CATEGORY_NAMED.search(lowered)
            if not named:
                return {}
            label = named.span("label" if named.group("label") else "label2")
            side = self.category_named(text[slice(*label)])
            if side is not None:  # "in the Health category": one of the two "&" joins
                found["category"] = side
                take(named, "category", side)
                return {}
            # Not taken out of the topic: the label still says what the papers are about.
            spans += [(named.start(), label[0]), (label[1], named.end())]
            given = sorted(self.vocab.categories.values())
            why = f"no paper here carries it as a category; those carried are {_shown(given)}"
            return {text[slice(*label)]: why if given else "no paper carries one"}
        found["category"] = self.vocab.categories[best]
        words = r"\W+".join(plural_pattern(w) for w in best.split())
        match = re.search(rf"\b{words}\b", lowered)
        if match:
            take(match, "category")
        return {}

    def category_named(self, subject: str) -> str | None:
        """The collection's category label a topic is, whole ("imaging", "Bayesian inference",
        "experimental studies", "health-related") or as one of the two a label joins ("health"
        of "Health & Medicine"); None for any other topic.

        >>> parser = QueryParser([Paper(paper_id="p", title="T", abstract="A", categories=[
        ...     "Health & Medicine > Diagnostic Medicine > Imaging"])])
        >>> [parser.category_named(s) for s in ("imaging", "Health-related", "medical imaging")]
        ['Imaging', 'Health & Medicine', None]
        """
        words = fold(subject).split()
        while len(words) > 1 and words[-1] in _CATEGORY_SUFFIXES:
            words.pop()  # "health related", "neurology papers"
        wanted = _singular_words(" ".join(words))
        if not wanted:
            return None
        for label in self.vocab.categories.values():
            sides = [label, *re.split(r"\s*(?:&|\band\b)\s*", label)]
            if any(_singular_words(fold(side)) == wanted for side in sides):
                return label
        return None

    def _organization(self, lowered: str, found: dict[str, object], take: Taker) -> None:
        """An organization of the collection named by its full name or a distinctive word of
        it ("Qualcomm", "Harvard")."""
        folded = f" {fold(lowered)} "
        for organization in self.vocab.organizations:
            words = [w for w in fold(organization).split() if w not in _GENERIC_ORG_WORDS]
            if words and all(f" {w} " in folded for w in words):
                found["organization"] = organization
                whole = fold(organization).split()
                for word in whole if all(f" {w} " in folded for w in whole) else words:
                    match = re.search(rf"\b{re.escape(word)}\b", lowered)
                    if match:
                        take(match, "organization")
                return

    def _region(
        self, text: str, lowered: str, found: dict[str, object], take: Taker
    ) -> dict[str, str]:
        """A place the collection's papers come from, after "from", "in", "based in"...: the
        longest run of up to five words there that names one ("from authors in Europe",
        "with authors in California were accepted"). Of two joined places ("from Africa or
        Asia") where no paper gives one of them, the other filters and that one is said."""
        places = {
            **self.vocab.regions,
            # "in the US", "from the UK": the short names of places papers give in full
            **{
                short: self.vocab.regions[full]
                for short, full in _SHORT_PLACES.items()
                if full in self.vocab.regions
            },
        }
        for pair in _TWO_PLACES.finditer(lowered):
            for match in _longest_first(_TWO_PLACES, lowered, pair.start(), "second"):
                known = [g for g in ("place", "second") if fold(match[g]) in places]
                if len(known) == 2:
                    each = "regions" if (match["both"] or "").startswith("both") else "any_region"
                    found[each] = [places[fold(match[g])] for g in known]
                    take(match, "regions")
                    return {}
                other = "second" if known == ["place"] else "place"
                if known and match[other] in _world_places():
                    found["region"] = places[fold(match[known[0]])]
                    take(match, "region", said=places[fold(match[known[0]])])
                    return {text[slice(*match.span(other))]: self._no_place()}
        # Each cue, though the words after the last one held it ("from authors in Europe").
        for cue in re.finditer(r"\b(?:from|in|based in|located in|out of|at)\b", lowered):
            for match in _longest_first(_PLACE_AFTER, lowered, cue.start(), "place"):
                if fold(match.group("place")) in places:
                    found["region"] = places[fold(match.group("place"))]
                    take(match, "region")
                    return {}
        return {}

    def _listing_left_out(self, text: str, take: Taker) -> list[str]:
        """A listing left out as "non-ICLR papers" or "papers outside the daily list", as
        written. Only a listing's name counts: "non-convex" and "outside the training
        distribution" are topics. Both had been read as the listing asked for."""
        found: list[str] = []
        for match in _LEFT_OUT.finditer(text):
            words = list(re.finditer(r"\S+", match["rest"]))
            for n in range(len(words), 0, -1):
                said = match["rest"][: words[n - 1].end()].rstrip("?.,;!")
                venue = self._venue(said.lower(), [])
                last = fold(said).split()[-1] if fold(said) else ""
                # The longest run naming a listing that ends on one of its words or the noun
                # a listing goes by: "ICLR" of "non-ICLR papers on RL", "the daily list".
                if venue and (last in _venue_words(venue) or last in _LISTING_NOUNS):
                    whole = _ANY.match(text, match.start(), match.start("rest") + len(said))
                    take(whole or match, "excluding", said)
                    found.append(said)
                    break
        return found

    def _conferences(
        self,
        text: str,
        lowered: str,
        found: dict[str, object],
        take: Taker,
        spans: list[tuple[int, int]],
    ) -> dict[str, str]:
        """Papers asked for as a conference's ("conference papers", "peer-reviewed papers",
        "papers from conferences"): the listings that are a known conference's, or why none
        can filter. They had named nothing to search for, or been refused."""
        match = _CONFERENCE_PAPERS.search(lowered)
        if match is None or self._venue(lowered, []) is not None:
            return {}  # none asked, or a listing named says which ("ICLR conference papers")
        held = [v for v in self.vocab.venues if re.search(rf"\b(?:{_KNOWN_VENUES})\b", v, re.I)]
        if not held:
            spans.append(match.span())
            given = ", ".join(self.vocab.venues) or "none"
            return {text[slice(*match.span())]: f"no listing here is a conference's: {given}"}
        found["venue" if len(held) == 1 else "any_venue"] = held[0] if len(held) == 1 else held
        take(match, "venue", " or ".join(held))
        return {}

    def _nationality(
        self,
        text: str,
        lowered: str,
        found: dict[str, object],
        take: Taker,
        spans: list[tuple[int, int]],
    ) -> dict[str, str]:
        """A place said as the authors' nationality ("by Chinese authors", "from German
        universities"): the country filters where papers give it, and is said unread where
        none does. Either way it is no author ("Chinese") and no topic: read as an author, no
        paper had matched, and the question had been refused."""
        match = _NATIONALITY.search(lowered)
        if not match:
            return {}
        place = _NATIONALITIES[match["adj"]]
        if place in self.vocab.regions:
            found["region"] = self.vocab.regions[place]
            take(match, "region", self.vocab.regions[place])
            return {}
        spans.append(match.span())
        return {text[slice(*match.span("adj"))]: self._no_place()}

    def _no_place(self) -> str:
        """Why a place no paper gives cannot filter."""
        given = sorted(set(self.vocab.regions.values()))
        if not given:
            return "no paper here gives a place"
        return f"no paper here lists authors there; places given are {_shown(given)}"

    def _venue(self, lowered: str, spans: list[tuple[int, int]]) -> str | None:
        """The listing or venue the question names ("ICLR 2026", "Hugging Face daily list").

        A venue is named by a phrase of two or more of its words ("hugging face") or by a single
        word that is a brand rather than plain English ("ICLR", "arXiv"); among those named, the
        one sharing most words with the question wins, and a tie keeps their common prefix.
        """
        folded = f" {fold(lowered)} "
        words = set(folded.split())
        scored: list[tuple[int, str]] = []
        for venue in self.vocab.venues:
            if any(f" {phrase} " in folded for phrase in _venue_triggers(venue)):
                scored.append((len(_venue_words(venue) & words), venue))
        if not scored:
            return None
        top = max(score for score, _ in scored)
        best = [venue for score, venue in scored if score == top]
        # Of venues named alike, one written out in full ("Hugging Face Papers", beside
        # "Hugging Face Daily Papers") is the one meant.
        whole = [venue for venue in best if f" {fold(venue)} " in folded]
        best = whole if len(whole) == 1 else best
        chosen = best[0] if len(best) == 1 else _common_prefix(best)
        if chosen and _other_year(folded, chosen):
            return None  # "ICLR 2024" where the papers give ICLR 2026: no venue they give
        named: list[tuple[int, int]] = []
        for word in _venue_words(chosen) if chosen else ():
            named.extend(m.span() for m in re.finditer(rf"\b{re.escape(word)}\b", lowered))
        if chosen:  # written out in full, its common words go too ("arXiv.org Machine Learning")
            name = r"\W+".join(re.escape(w) for w in re.findall(r"\w+", chosen.lower()))
            named.extend(m.span() for m in re.finditer(rf"\b{name}\b", lowered))
            # ... and its capitalised words by their initials, beside the rest of its name
            # ("arXiv ML papers", "HF daily papers").
            for short in _initials(chosen):
                named.extend(
                    m.span()
                    for m in re.finditer(rf"\b{short}\b", lowered)
                    if any(
                        m.start() - 2 <= b <= m.start() or m.end() <= a <= m.end() + 2
                        for a, b in named
                    )
                )
        spans.extend(named)
        return chosen or None

    def _two_venues(self, lowered: str, spans: list[tuple[int, int]]) -> tuple[list[str], bool]:
        """Two venues joined by "and" or "or", and whether a paper must be in both ("listed both
        on the daily list and at ICLR 2026") or in either ("papers from ICLR 2026 or arXiv",
        "from ICLR 2026 and the daily list": without "both", "and" joins the two sets)."""
        both = re.search(r"\bboth\b", lowered)
        for joint in re.finditer(r"\b(?:and|or)\b", lowered):
            if both and joint.start() < both.end():
                continue
            named: list[str] = []
            found: list[tuple[int, int]] = []
            for start, end in ((both.end() if both else 0, joint.start()), (joint.end(), None)):
                taken: list[tuple[int, int]] = []
                venue = self._venue(lowered[start:end], taken)
                if not venue or venue in named:
                    break
                named.append(venue)
                found.extend((a + start, b + start) for a, b in taken)
            else:
                spans.extend([*found, *([both.span()] if both else [])])
                return named, bool(both) and joint.group(0) == "and"
        return [], False

    def _unknown_venue(self, text: str, spans: list[tuple[int, int]]) -> dict[str, str]:
        """A venue the question names that no paper gives ("published at NeurIPS"), with why
        it cannot filter; its phrase is taken out of the topic, which is searched without it.
        """
        for match in _VENUE_NAMED.finditer(text):
            if any(a < match.end() and match.start() < b for a, b in spans):
                continue  # a date or another constraint ("published in March 2024")
            spans.append(match.span())
            phrase = (match.group("venue") or match.group("named")).strip()
            given = self.vocab.venues
            why = (
                f"no paper here gives it as its venue; those given are {_shown(given)}"
                if given
                else "no paper here gives a venue"
            )
            return {phrase: why}
        return {}

    def _unknown_organization(
        self,
        text: str,
        spans: list[tuple[int, int]],
        usage: Callable[[str], int] | None = None,
    ) -> dict[str, str]:
        """An organization the question says papers come from that no paper lists ("Which
        papers did Google researchers write?", and "any papers from MIT?" where no paper uses
        the name as a word), with why it cannot filter; like an unknown venue its phrase
        leaves the topic. It had been searched, and the question refused."""
        said = list(_ORGANIZATION_NAMED.finditer(text))
        makers = [
            m
            for m in _MAKER_NAMED.finditer(text)
            if usage is not None
            and usage(m.group("maker")) == 0
            and fold(m.group("maker")) not in self.vocab.surnames
        ]
        if usage is not None:
            said += [
                m
                for m in _FROM_NAMED.finditer(text)
                if not any(usage(word) for word in m.group("after").split())
                and self.vocab.name(fold(m.group("after"))) is None  # "papers from Haoli Bai"
                and fold(m.group("after")) not in self.vocab.surnames  # "from Macar et al."
            ]
        for match in [*said, *makers]:
            named = match.groupdict()
            words = (named.get("after") or named.get("before") or named["maker"]).split()
            while words and words[0].lower() in _NOT_ORG_WORDS:
                words = words[1:]
            org = " ".join(words)
            if (
                not org
                or any(a < match.end() and match.start() < b for a, b in spans)
                # a place ("researchers from France") or a listing ("ICLR authors")
                or _place_named().search(f"from {org.lower()}")
                or re.fullmatch(rf"(?i:{_KNOWN_VENUES})", org)
                or any(fold(org) in fold(venue) for venue in self.vocab.venues)
            ):
                continue
            spans.append(match.span("maker") if match in makers else match.span())
            given = self.vocab.organizations
            why = (
                f"no paper here lists it as its organization; those listed are {_shown(given)}"
                if given
                else "no paper here lists an organization"
            )
            if match in makers:
                why = f"no paper here lists it as an author, and {why}"
            return {org: why}
        return {}

    def _unknown_place(
        self, text: str, lowered: str, spans: Sequence[tuple[int, int]]
    ) -> dict[str, str]:
        """A country or continent the question says papers come from that none gives ("from
        France"), with why it cannot filter. Like an unknown category it stays in the topic:
        "data from India" says what a paper is about."""
        for match in _place_named().finditer(lowered):
            if any(a < match.end() and match.start() < b for a, b in spans):
                continue
            return {text[slice(*match.span("place"))]: self._no_place()}
        return {}

    def _authors(
        self, text: str, spans: list[tuple[int, int]], usage: Callable[[str], int] | None = None
    ) -> list[str]:
        """Known full names anywhere; any capitalised name after "papers by" and the like; a
        known surname, capitalised, that no paper uses as a word (when ``usage`` says so) or
        that "et al." follows."""
        tokens = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"[^\W\d_][\w'.-]*", text)]
        folded = [fold(re.sub(r"['\u2019]s$", "", t)) for t, _, _ in tokens]  # "Bai's" too
        names: list[str] = []
        used: set[int] = set()
        longest = self.vocab.longest_name
        for size in range(min(longest, 5), 1, -1):
            for i in range(len(tokens) - size + 1):
                if used & set(range(i, i + size)):
                    continue
                known = self.vocab.name(" ".join(folded[i : i + size]))
                if known is not None:
                    names.append(known)
                    used.update(range(i, i + size))
                    spans.append((tokens[i][1], tokens[i + size - 1][2]))
        name = r"(?P<name>[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){0,3})"
        chat = name.replace("<name>", "<chat>")
        cue = re.compile(
            r"\b(?i:papers?|work|articles?|publications?|written|authored|co-authored|coauthored"
            r"|co-written|cowritten|anything|something|everything|stuff|ones)"
            rf"(?: (?:is|are|was|were))? by\s+{name}"
            # "any by Kaiming He?", asked after a list (and read with it: "... (by Kaiming He)")
            rf"|(?:^\W*(?i:and\s+)?(?i:any)\s+|\(\s*)by\s+{chat}"
            # "What did Jeremy Bernstein write?": a full name, as one word may be a method's.
            r"|\b(?i:what(?:\s+else)?|which\s+papers?)\s+(?i:did|has|have)\s+"
            r"(?P<full>[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){1,3})\s+"
            r"(?i:write|written|wrote|publish|published|author|authored|co-author|co-authored"
            r"|co-write|co-written|co-wrote)\b"
            # "has Yann LeCun as a co-author", "lists Haoli Bai among the authors"
            r"|(?P<listed>[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){1,3})\s+"
            r"(?i:as\s+(?:an?\s+|the\s+|one\s+of\s+the\s+)?(?:co-?)?authors?"
            r"|among\s+(?:the|its|their)\s+(?:co-?)?authors)\b"
        )
        for match in cue.finditer(text):
            group = next(g for g in ("name", "chat", "full", "listed") if match.group(g))
            start = match.start(group)
            if any(tokens[i][1] >= start and tokens[i][1] < match.end() for i in used):
                continue
            if any(a < match.end(group) and start < b for a, b in spans):
                continue  # "What did Harvard University publish?": an organization
            candidate = fold(match.group(group))
            names.append(self.vocab.name(candidate) or match.group(group))
            spans.append((start, match.end(group)))
        # A name the collection lists, typed in lower case: "papers by fortuin".
        for match in re.finditer(r"\bby\s+(?P<one>[a-z][\w'.-]*)(?P<two>\s+[a-z][\w'.-]*)?", text):
            if any(a < match.end() and match.start() < b for a, b in spans):
                continue
            whole = self.vocab.name(fold(match.group("one") + (match.group("two") or "")))
            if whole is not None:
                names.append(whole)
                spans.append((match.start("one"), match.end()))
            elif fold(match.group("one")) in self.vocab.surnames and (
                usage is None or usage(match.group("one")) == 0  # "by hand" is no author
            ):
                names.append(self.vocab.surnames[fold(match.group("one"))])
                spans.append(match.span("one"))
        if usage is None:
            return list(dict.fromkeys(names))  # a name written twice is one author
        for token, start, end in tokens:
            bare = re.sub(r"['\u2019]s$", "", token)
            surname = self.vocab.surnames.get(fold(bare))
            taken = any(a <= start < b for a, b in spans)
            if surname is None or taken or not bare[:1].isupper():
                continue
            cited = re.match(r"\s+et\.?\s+al\b\.?", text[end:])  # "Givens et al."
            if usage(bare) > 0 and not cited:
                continue
            names.append(surname)
            spans.append((start, end + (cited.end() if cited else 0)))  # "Fortuin's" whole
        return list(dict.fromkeys(names))


#: What a question says it does not want: "not about LLMs", "that do not use reinforcement
#: learning", "excluding surveys", "but not on arXiv". "without" is left alone: it mostly says
#: how a method works ("without fine-tuning").
_NOT = re.compile(
    r"\b(?:(?:that|which|who)\s+)?(?:"
    r"(?:are|is|were|was)(?:n't|\s+not)\s+(?:about|on|from|at|related\s+to|concerned\s+with)"
    r"|(?:do|does|did)(?:n't|\s+not)\s+(?:use|involve|mention|rely\s+on|study|discuss|apply|cover)"
    r"|not\s+(?:about|on|from|at|involving|using|mentioning|related\s+to)"
    r"|excluding|except(?:\s+for)?(?:\s+(?:those|ones|papers)(?:\s+(?:about|on|using|with))?)?"
    r"|but\s+not(?:\s+(?:about|on|in|from|at|involving|using|mentioning|related\s+to))?"
    r")\s+(?:(?:the|a|an|any)\s+)?"
    # a dot inside a word stays ("arXiv.org"), one that ends the sentence does not
    r"(?P<said>[^\W_](?:[\w'+-]|\.(?=\w))*(?:\s+(?!(?:and|or|but|that|which|in|from|since|"
    r"before|after|with|by|are|is|was|were)\b)[^\W_](?:[\w'+-]|\.(?=\w))*){0,3})",
    re.IGNORECASE,
)


#: A phrase quoted, or up to four words that end before a clause: what a title must say.
_TITLE_WORDS = (
    r"(?:[\"\u201c'\u2018](?P<quoted>[^\"\u201d'\u2019]{1,80})[\"\u201d'\u2019]"
    r"|(?!(?:the|a|an|this|that|its|their|which|what)\b)(?P<said>[^\W_][\w+.-]*(?:\s+"
    r"(?!(?:and|or|but|that|which|in|from|since|before|after|with|by|are|is|was|were"
    r"|published|sorted|ordered)\b)[^\W_][\w+.-]*){0,3}))"
)
#: Words a title must say: "with transformer in the title", "that have 'LLM' in their titles"
#: (the words before), "whose title mentions diffusion", "titles containing agent" (after).
_IN_TITLE = (
    re.compile(
        r"\b(?:with|having|ha(?:ve|s)|(?:that|which)\s+(?:ha(?:ve|s)|says?|uses?|mentions?))\s+"
        r"(?:the\s+(?:words?|terms?|phrases?)\s+)?"
        + _TITLE_WORDS.replace("{0,3}", "{0,3}?")  # as few as "in the title" leaves
        + r"\s+in\s+(?:the|their|its|a)\s+titles?\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:(?:whose|where\s+the|with\s+a|with|the)\s+)?titles?\s+(?:mentions?|contains?|includes?"
        r"|says?|ha(?:ve|s)|uses?|mentioning|containing|including|saying|having|using|with)\s+"
        r"(?:the\s+(?:words?|terms?|phrases?)\s+)?" + _TITLE_WORDS,
        re.IGNORECASE,
    ),
)


#: What a title opens with: "papers whose title starts with Towards", "titles beginning with
#: 'A Survey'".
_TITLE_OPENS = re.compile(
    r"\b(?:(?:whose|where\s+the|with\s+a|with|the)\s+)?titles?\s+(?:that\s+|which\s+)?"
    r"(?:starts?|begins?|opens?|starting|beginning|opening)\s+with\s+(?:the\s+words?\s+)?"
    + _TITLE_WORDS.replace("|with|by|", "|with|by|on|about|"),  # "... with Learning on RL"
    re.IGNORECASE,
)


def _in_title(text: str, take: Taker) -> list[str]:
    """The words ``text`` asks the papers' titles to say, as written.

    >>> said = lambda q: _in_title(q, lambda *_: None)
    >>> [said(q) for q in ("Show papers with transformer in the title",
    ...     "papers whose title mentions diffusion models", "Which titles contain 'LLM'?",
    ...     "How many papers have the word agent in their titles?", "papers on titles")]
    [['transformer'], ['diffusion models'], ['LLM'], ['agent'], []]
    """
    found: list[str] = []
    for pattern in _IN_TITLE:
        for match in pattern.finditer(text):
            said = (match["quoted"] or match["said"]).strip()
            found.append(said)
            take(match, "title says", said)
    return found


def _excluded(text: str, take: Taker, spans: list[tuple[int, int]]) -> tuple[list[str], list[str]]:
    """What ``text`` asks to leave out, as written ("LLMs" of "papers not about LLMs"), and
    the dates it asks to leave out ("not from 2024"), which no filter can: their spans are
    taken all the same, so that they are not read as dates asked for."""
    found: list[str] = []
    dated: list[str] = []
    for match in _NOT.finditer(text):
        phrase = match.group("said")
        explicit = re.match(r"(?:excluding|except)\b", match.group(0), re.IGNORECASE)
        if not explicit and not re.search(rf"\b{_WORKS}\b", text[: match.start()], re.I):
            # Said of a method, not of the papers wanted: "Which method does not use labels?"
            # describes a paper that says "without labels", which leaving out would lose.
            continue
        if phrase.isdigit():
            dated.append(match.group(0).strip())
            spans.append(match.span())
        else:
            found.append(phrase)
            take(match, "excluding")
    return found, dated


def _longest_first(
    pattern: re.Pattern[str], text: str, start: int, group: str
) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` at ``start``, cut after each word of ``group``, the longest
    first: the run of words after "from" that names a place ("from authors in california")."""
    run = pattern.match(text, start)
    if run is None:
        return
    ends = [run.start(group) + w.end() for w in _WORD.finditer(run.group(group))]
    for end in reversed(ends):
        match = pattern.match(text, start, end)
        if match is not None:
            yield match


def _shown(values: Sequence[str], most: int = 5) -> str:
    """The first ``most`` of ``values`` and how many more: "A, B, C, D, E and 26 more"."""
    more = len(values) - most
    return ", ".join(values[:most]) + (f" and {more} more" if more > 0 else "")


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the characters of ``spans`` made spaces (its length and offsets kept).

    >>> _blanked("papers from 2024 on RL", [(7, 16), (20, 99), (-3, 0)])
    'papers           on   '
    """
    chars = list(text)
    for start, end in spans:  # each span once, not each character against every span
        start, end = max(start, 0), min(end, len(chars))
        if start < end:
            chars[start:end] = " " * (end - start)
    return "".join(chars)


def _common_prefix(values: list[str]) -> str:
    first, last = min(values), max(values)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size].strip()


_DESCRIBED = re.compile(
    r"\bthe ((?:[\w.+'-]+ ){2,4}?)(?:paper|article|preprint|study|report)\b"
    r"|\bthe (?:paper|article|preprint|study) (?:on|about) ((?:[\w.+'-]+ ?){2,4})(?=\s*[?.!,]|$)",
    re.IGNORECASE,
)


def title_words(text: str) -> list[str]:
    """The words a question describes one paper by, as a title would: "the Muon convergence
    paper", "the paper on scheduling refinement" (two to four words beyond the frame).

    >>> title_words("What venue is the Muon convergence paper from?")
    ['muon', 'convergence']
    >>> [title_words(q) for q in ("Who wrote the paper on pruning?", "the first paper")]
    [[], []]
    """
    match = _DESCRIBED.search(text)
    if match is None:
        return []
    said = match.group(1) or match.group(2)
    words = [w for w in _WORD.findall(said.lower()) if not _scaffold(w) and len(w) > 2]
    return words if len(words) >= 2 else []


def sort_value(paper: Paper, sort: Sort) -> str | int | None:
    """What ``sort`` orders ``paper`` by, or None when the paper does not give it."""
    if sort.key == "author_count":
        return author_count(paper)
    if sort.key == "upvotes":
        return paper.upvotes
    return paper.date


def sort_papers(papers: Iterable[Paper], sort: Sort | None) -> list[Paper]:
    """Papers in the order ``sort`` asks for (unknown values last); newest first by default."""
    sort = sort or Sort(key="date")
    known = [p for p in papers if sort_value(p, sort) is not None]
    unknown = [p for p in papers if sort_value(p, sort) is None]
    known.sort(key=lambda p: (sort_value(p, sort), p.title), reverse=sort.descending)
    return known + sorted(unknown, key=lambda p: p.title)


def _tally_values(paper: Paper, key: str) -> list[str]:
    if key == "author":
        return paper.authors
    if key == "listing":
        return paper.listings
    if key == "year":
        year = paper.year or (int(paper.date[:4]) if paper.date else None)
        return [str(year)] if year else []
    if key == "month":  # "2025-12", of a date that gives its month
        return [paper.date[:7]] if paper.date and len(paper.date) >= 7 else []
    if key == "organization":
        return [paper.organization] if paper.organization else []
    return paper.categories if key == "category" else paper.regions


def tally_papers(papers: Iterable[Paper], key: str) -> list[tuple[str, list[Paper]]]:
    """The papers grouped by each value of ``key`` they give, the largest group first (years
    in order when as large); one value spelt two ways ("Suárez", "Suarez") is one group, named
    as first seen.

    >>> papers = [
    ...     Paper(paper_id=str(i), title=f"T{i}", abstract="a", authors=names)
    ...     for i, names in enumerate([["Ana Suárez", "Bo Li"], ["Ana Suarez"], ["Bo Li"], []])
    ... ]
    >>> [(name, len(group)) for name, group in tally_papers(papers, "author")]
    [('Ana Suárez', 2), ('Bo Li', 2)]
    """
    groups: dict[str, tuple[str, list[Paper]]] = {}
    for paper in papers:
        for value in dict.fromkeys(_tally_values(paper, key)):
            _, members = groups.setdefault(fold(value), (value, []))
            if not members or members[-1] is not paper:
                members.append(paper)
    return sorted(groups.values(), key=lambda group: (-len(group[1]), group[0]))
