"""The conversation's rules: which questions lean on the last turn, what "it" and "the second
one" name, and the saved conversation with the papers it cites."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence

from assistant.bibliography import fenced, to_bibtex
from assistant.cite import content_words
from assistant.query import FEW, ORDER_ADDED, code_flipped, number
from assistant.records import Paper, Turn, title_name
from assistant.spelling import english_word
from assistant.themes import NAMED_BY

# What makes a question lean on the last turn. A demonstrative counts only before a word that
# names what was discussed or at the end ("those papers", "what about that?"), and "the paper"
# only when no clause describes a new one: "a network that stands in for ..." and "the paper
# that proposes X" ask afresh.
_BACK_NOUNS = (
    r"(?:papers?|ones?|methods?|works?|approach(?:es)?|models?|results?|stud(?:y|ies)|authors?"
    r"|list)"
)
#: What may open a follow-up before what it asks: "and", "so, ", "ok now".
_OPENING = r"^\W*(?:(?:and|so|ok(?:ay)?|now)\b[\s,]*)*"
#: Some of the last answer's papers asked about: "any that handle X?" (not "any papers that
#: ...", asked afresh), "which one handles X?" (not "which one of the papers on X ...").
_ANY_THAT = r"(?:any|some)(?:\s+ones)?\s+(?:that|which)\b"
_WHICH_ONE = r"(?:which|what)\s+ones?\b(?!\s+of\b)"
_PRONOUN = re.compile(
    r"\b(?:it|its|they|them|their|he|she|his|her)\b"
    rf"|\b(?:this|that|these|those)\s+{_BACK_NOUNS}\b"
    r"|\b(?:this|that|these|those)\s*[?.!]?\s*$"
    r"|\b(?:of|among)\s+(?:these|those)\b"
    r"|\b(?:newer|older|more\s+recent|other|similar)\s+ones\b"
    rf"|{_OPENING}(?:are\s+there\s+)?{_ANY_THAT}|{_OPENING}{_WHICH_ONE}"
    r"|\bthe (?:paper|method|approach|model|authors)\b(?!\s+(?:that|which|who|where)\b)"
    # "give me the full abstract" (not "the full abstract of SOAP")
    r"|\bthe\s+(?:whole|full|complete|entire)\s+abstract\b(?!\s+(?:of|for)\b)"
    # the last answer again, in another form: "can you put that in bullet points?", "rephrase
    # that", "as a list?" (asked afresh, the first had been refused)
    r"|\b(?:put|write|rewrite|rephrase|reword|format|redo|say|give)\s+(?:that|this|it)\b"
    r"|^\W*(?:(?:and|now|ok(?:ay)?|please|can\s+you|could\s+you)\b[\s,]*)*(?:(?:put\s+it\s+)?"
    r"(?:in|as)\s+(?:bullet(?:\s+points)?|bullets|a\s+(?:table|list)|one\s+(?:sentence"
    r"|paragraph)|(?:a\s+)?short(?:er)?\s+(?:form|version))|in\s+(?:simpler|plain)\s+(?:words"
    r"|english|terms))\W*$",
    re.IGNORECASE,
)
#: A follow-up asking for papers like the one just discussed: "Are there similar papers?",
#: "anything like it?", "more like this", "related work?".
_SIMILAR = re.compile(
    r"\b(?:similar|related|comparable)\s+(?:papers?|work|works|studies|ones|methods|approaches)\b"
    r"|\b(?:papers?|work|anything|more|others?|something)\s+(?:else\s+)?(?:like|similar\s+to)\s+"
    r"(?:it|this|that)(?:\s+(?:one|paper))?\b"
    # "is there anything similar?", "something similar?" (not "anything similar to SOAP")
    r"|\b(?:anything|something)\s+(?:else\s+)?similar\b(?!\s+to\b)"
    # "Are there other papers on that?", "more work on this", "anything else about it?"
    r"|\b(?:(?:other|more)\s+(?:papers?|work|works|studies|ones|approaches|methods|solutions)"
    r"|(?:anything|something)\s+else)"
    r"\s+(?:on|about|to|for)\s+(?:it|this|that|the\s+same\s+(?:topic|thing|problem|task))\b"
    # "any newer papers on the same topic?", "papers on the same topic from 2025"
    r"|\b(?:papers?|work|works|studies|ones|anything|something)\s+(?:on|about|in)\s+the\s+same"
    r"\s+(?:topic|subject|area|problem|task)\b"
    # "any follow-up work?", "anything building on it?": the collection holds no citations,
    # so the papers nearest it
    r"|\bfollow[-\s]?ups?\s+(?:papers?|work|works|studies)\b|\b(?:any|some)\s+follow[-\s]?ups?\b"
    r"|\b(?:papers?|work|works|anything|something|others?)\s+(?:that\s+|which\s+)?"
    r"(?:build(?:s|ing)?|buil[td]|extend(?:s|ing|ed)?)\s+on\s+(?:it|this|that)\b",
    re.IGNORECASE,
)
#: Words of a follow-up for papers like the last one that constrain them rather than name a
#: topic: "newer", "from 2025", "with code".
_LIKE_CONSTRAINTS = frozenset(
    {"newer", "newest", "recent", "latest", "older", "oldest", "earlier", "later", "code"}
)
#: A follow-up asking for the other papers of the last paper's authors: "any other papers by
#: the same authors?", "what else did they write?", "anything else by them?".
_SAME_AUTHORS = re.compile(
    r"\bsame\s+(?:authors?|people|team|group|researchers?|writers?|lab)\b"
    r"|\b(?:papers?|works?|anything|something|else|more|others?)\s+(?:\w+\s+){0,2}?(?:by|from)"
    r"\s+(?:(?:these|those|its|their|the|his|her)\s+(?:(?:co-?)?authors?|researchers?|people"
    r"|team|group|writers?)|them|him|her)\b"
    r"|\bwhat\s+else\s+(?:did|have|has)\s+(?:they|he|she|(?:the|its|these|his|her|their)\s+"
    r"(?:co-?)?authors?)\s+(?:write|written|wrote|publish|published|done)\b"
    r"|\b(?:did|have|has)\s+(?:they|he|she|(?:the|its|these|his|her|their)\s+(?:co-?)?authors?)\s+"
    r"(?:write|written|publish|published)\s+(?:anything|any\s+other|other|more)\b",
    re.IGNORECASE,
)
#: Words of asking for their writing, not of a topic ("Have they written anything else?").
_WRITING_WORDS = "have has did write wrote written publish published anything else done"
_WRITING = frozenset(_WRITING_WORDS.split())
_AUTHORS_OF = re.compile(r'Papers by the authors of "(?P<title>.+)"')
#: Words of asking for them, not of a topic ("Can you find me some related papers?").
_ASKING_WORDS = """you find please list show give same topic other some any can could would get
    see recommend suggest there"""
_ASKING = frozenset(_ASKING_WORDS.split())
#: A follow-up asking for more of what the last answer listed: "more", "give me 2 more",
#: "any others?", "show me three more papers", "what else?".
_MORE = re.compile(
    r"^\W*(?:(?:and|ok(?:ay)?|so|now|then|great|thanks)\b[\s,]*)*"
    r"(?:(?:can|could|would)\s+you\s+)?(?:are\s+there\s+)?"
    r"(?:(?:give|show|find|list|get|fetch)\s+(?:me\s+|us\s+)?)?"
    rf"(?:any\s+|some\s+|a\s+few\s+|(?P<n>{FEW})\s+)?"
    r"(?:more|others|other\s+ones|(?:what|anything)\s+else)"
    r"(?:\s+(?:papers?|ones|results))?(?:\s+please)?\s*[?.!]*\s*$",
    re.IGNORECASE,
)
#: The last question asked again for the papers after those shown: "... (papers 6 to 10)".
_PAGE = re.compile(r"(?P<asked>.+) \(papers (?P<first>\d+) to (?P<last>\d+)\)")
_SIMILAR_TO = re.compile(r'Papers similar to "(?P<title>.+?)"(?P<said>(?: \([^()]+\))*)')
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
_ORDINALS |= {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}  # "what about the 4th?"
#: A question with this many content words or more, and no reference back, stands alone.
STANDALONE_WORDS = 3
_IT = re.compile(r"\b(?:it|this (?:paper|one)|that (?:paper|one))\b", re.IGNORECASE)
#: A follow-up that asks the same of something new: "and what about Lion?", "how about the
#: Muon optimizer?", "same for diffusion models", "ok, and for GANs?".
_SWITCH = re.compile(
    r"^\W*(?:(?:and|ok(?:ay)?|so|but|now|then|right|thanks)\b[\s,]*)*"
    r"(?:(?:what|how)\s+about|what\s+of|(?:the\s+)?same\s+(?:question\s+|thing\s+)?for"
    r"|(?<=and )for|(?<=and, )for)\s+(?P<subject>[^?!.]+?)\s*[?!.]*\s*$",
    re.IGNORECASE,
)
#: ... asked as "and causal inference?": a few words after "and", no question of its own.
_AND_ALSO = re.compile(
    r"^\W*and\s+(?!(?:what|which|who|whom|whose|how|why|when|where|is|are|was|were|does|do"
    r"|did|can|could|should|would|will|has|have|for|more|others?|the|any|some|also)\b)"
    r"(?P<subject>[^?!.,;]+?)\s*\?\s*$",
    re.IGNORECASE,
)
#: A follow-up that turns the last answer down before it asks anew: "none of these, anything
#: on KV cache compression?", "no, I meant the diffusion policy paper".
_TURNED_DOWN = re.compile(
    r"^\W*(?:no(?:pe)?|none\s+of\s+(?:these|those|them)(?:\s+(?:papers|ones))?"
    r"|not\s+(?:these|those|them|that|this|quite|what\s+i\s+(?:wanted|meant|was\s+after))"
    r"(?:\s+(?:one|ones|papers?))?)\s*[,.;:!-]+\s*"
    # "none of these, I meant graph neural networks": what it meant is what it asks
    r"(?:i\s+(?:meant|mean|wanted|was\s+(?:asking|looking)\s+(?:about|for))\s+)?",
    re.IGNORECASE,
)
#: Constraints that keep part of the last answer: "only the ones from 2024", "just 2025".
_ONLY = re.compile(
    r"^\W*(?:(?:and|ok(?:ay)?|now)\b[\s,]*)*(?:(?:only|just)\s+(?:(?:the\s+)?(?:ones|papers)|those"
    r"|these)?"
    # "narrow it down to 2025", "limit them to ICLR", "restrict to papers with code"
    r"|(?:narrow|limit|restrict|filter)(?:\s+(?:it|them|this|that|these|those|the\s+list))?"
    r"(?:\s+down)?\s+to\b)\s*(?P<subject>[^?!.]+?)\s*[?!.]*\s*$",
    re.IGNORECASE,
)
#: Constraints asked of the last answer's papers as "which ones": "which ones have code?",
#: "any from 2025?", "are there any from ICLR?".
_WHICH_ONES = re.compile(
    rf"{_OPENING}(?:(?:which|what)\s+ones?"
    # "and which has code?", "which are from 2025?"
    r"|which(?=\s+(?:has|have|had|is|are|was|were|gives?|releases?|shares?|provides?)\s)"
    r"|(?:are\s+there\s+)?(?:any|some)(?:\s+(?:ones|papers))?)\s+(?P<subject>[^?!.]+?)"
    r"\s*[?!.]*\s*$",
    re.IGNORECASE,
)
#: A topic asked of the papers a listing gave: "and which of those are about reasoning?".
_ABOUT_AMONG = re.compile(
    rf"{_OPENING}(?:which|what)\s+(?:ones?|of\s+(?:those|these"
    r"|them))\s+(?:(?:is|are|was|were)\s+)?(?P<subject>(?:about|on|regarding|concerning)\s+"
    r"[^?!.]+?)\s*[?!.]*\s*$",
    re.IGNORECASE,
)
#: ... asked with "among them" after: "anything on agents among them?", "any about reasoning
#: in those?" (searched afresh, it had listed agent papers from any date).
_ABOUT_AMONG_AFTER = re.compile(
    rf"{_OPENING}(?:(?:is|are)\s+there\s+)?(?:anything|something|any|some)(?:\s+papers?)?\s+"
    r"(?P<subject>(?:about|on|regarding|concerning)\s+[^?!.]+?)\s+(?:among|of|in)\s+"
    r"(?:them|those|these)(?:\s+papers)?\s*[?!.]*\s*$",
    re.IGNORECASE,
)
#: The papers a narrowing left out: "and which don't?", "which of them do not?".
_THE_REST = re.compile(
    rf"{_OPENING}(?:which|what)(?:\s+ones?|\s+of\s+(?:them|those|these))?\s+(?:don'?t|do\s+not"
    r"|doesn'?t|does\s+not)\s*[?!.]*\s*$",
    re.IGNORECASE,
)
#: A field a narrowing asked to be given: "have code", "with a DOI".
_HAVING = re.compile(r"^(?:have|has|with|give|gives)\s+(?P<what>.+)$", re.IGNORECASE)
#: A year said alone: "what about 2024?", "and 2024?" (the parser reads "from 2024").
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_DECADE = r"(?:the\s+)?(?:(?:early|mid|late)[- ])?(?:19|20)\d0'?s\b"
_YEAR_ONLY = re.compile(rf"(?:(?:from|in|of)\s+)?(?P<year>{_DECADE}|(?:19|20)\d\d)", re.IGNORECASE)
#: A year or a decade a question names: "2025", "the 2010s", "the early 2020s".
_YEAR_OR_DECADE = re.compile(rf"\b{_DECADE}|\b(?:19|20)\d\d\b", re.IGNORECASE)
#: The rest of the last message: "on pruning", "about bandits", "from 2024".
_CONTINUED = re.compile(r"^\W*(?:on|about|regarding|concerning|for|from|in|by|with)\s+\w", re.I)
_ORDINAL = "(?:" + "|".join(_ORDINALS) + ")"
#: One paper of the last answer: "the second one", "the second" ending a clause ("tell me
#: more about the second"), or by its number: "paper 2", "source #3", "[3]", "#2", "number 1"
#: (its source [n], as the answer marks it).
_ORDINAL_REF = re.compile(
    rf"\bthe ({_ORDINAL})(?: (?:one|paper|source|result)\b|(?=\s*(?:[?.!,;]|$)))"
    r"|(?:\b(?:paper|source|result|item|number)\s+#?\s*|(?<![\w\]])#|(?<![\w\]])\[)([1-9])"
    r"\]?(?![\w.%-])",
    re.IGNORECASE,
)
#: Several papers of the last answer at once: "the first two", "the top 3", "both", "them",
#: "those papers", "the first and the third (ones)".
_GROUP_REF = re.compile(
    r"\b(?:the\s+)?(?:first|top)\s+(?P<n>two|three|four|five|[2-5])"
    r"(?:\s+(?:ones|papers|sources|results))?\b"
    r"|\bthe\s+(?P<count>two|three|four|five)(?:\s+(?:ones|papers|sources|results)\b"
    # "which of the two uses Adam?"
    r"|(?<=\bof the \w{3})(?<!\w{4})(?=\s*[?.!]|\s+(?:is|are|was|were|has|have|had|uses?|used"
    r"|does|do|did|mentions?|gives?|got|came|appeared)\b))"
    # "them", "both" and "those" only as what is compared: "compare SOAP and MARS, which of
    # them is faster?" names its papers itself.
    r"|\b(?:compare|contrast|between)\s+(?P<both>both|the\s+two)(?:\s+of\s+them|\s+papers)?\b"
    r"|\b(?:compare|contrast|between)\s+(?P<all>all\s+of\s+them|them|(?:these|those|all)"
    r"(?:\s+(?:papers|ones|sources|results))?)\b"
    r"|\bhow\s+do\s+(?P<they>they|these|those(?:\s+(?:papers|ones))?)\s+(?:differ|compare)\b"
    rf"|\bthe\s+(?P<list>{_ORDINAL}(?:\s*(?:,|and|&|with)\s*(?:the\s+)?{_ORDINAL})+)"
    r"(?:\s+(?:ones|papers|sources|results))?\b",
    re.IGNORECASE,
)
#: "Both" as the papers asked about ("summarize both", "who wrote both of them?"), not as in
#: "both fast and accurate".
_BOTH = re.compile(
    r"\bboth(?:\s+of\s+(?:them|these|those)|\s+(?:papers|ones))?(?=\s*[?.!]*\s*$)"
    r"|\bboth\s+(?:of\s+(?:them|these|those)|papers|ones)\b",
    re.IGNORECASE,
)
_PLURAL = re.compile(
    rf"\b(?:they|them|their|these|those)\b|\b{_ANY_THAT}|{_OPENING}{_WHICH_ONE}",
    re.IGNORECASE,
)
_THOSE = re.compile(r"\b(?:these|those)\b", re.IGNORECASE)
#: The other end of the last question's count or order: "and the fewest?", "the least?".
_OTHER_END = re.compile(
    r"^\W*(?:(?:and|ok(?:ay)?|so|but|now|then|what\s+about|how\s+about)\b[\s,]*)*"
    r"(?:the\s+)?(?:(?P<few>fewest|least)|(?P<many>most))(?:\s+ones?)?\s*[?!.]*\s*$",
    re.IGNORECASE,
)
#: A year next to the one the last question names: "and the year before?", "the next year?".
_YEAR_SHIFT = re.compile(
    r"^\W*(?:(?:and|ok(?:ay)?|so|now|then|what\s+about|how\s+about)\b[\s,]*)*(?:and\s+)?"
    r"(?:(?:the|a)\s+year\s+(?P<dir>before|after|earlier|later)"
    r"|(?:the\s+)?(?P<next>previous|prior|next|following)\s+year)\s*[?!.]*\s*$",
    re.IGNORECASE,
)
_A_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
#: What opens and what ends a follow-up asking who or which has the most or the fewest.
_MOST_OPENING = r"^\W*(?:(?:and|ok(?:ay)?|so|but|now|then)\b[\s,]*)*"
_HAS_THE_END = r"\s+(?:has|have|had)\s+the\s+(?P<end>most|fewest)(?:\s+papers?)?\s*[?!.]*\s*$"
#: "who has the most?", "which one has the fewest?" ...
_WHO_HAS_MOST = re.compile(
    rf"{_MOST_OPENING}(?:who|which(?:\s+(?:ones?|papers?|of\s+(?:them|those|these)))?)"
    rf"{_HAS_THE_END}",
    re.IGNORECASE,
)
#: ... after how many values there are: "How many authors are there in ICLR 2026?".
_VALUES_ASKED = re.compile(
    r"^\W*how\s+many\s+(?:distinct\s+|unique\s+|different\s+)?(?P<g>authors|venues|listings"
    r"|categories|years|months|regions|countries|organi[sz]ations)\b(?:\s+(?:are|is)\s+there)?"
    r"(?P<rest>[^?!]*)",
    re.IGNORECASE,
)
#: ... after a mean asked for: "What is the average number of upvotes?".
_AVERAGED = re.compile(
    r"\b(?:average|mean|median)\s+(?:number\s+of\s+)?(?P<field>authors|upvotes)\b", re.I
)
#: "which year has the fewest?" ...
_GROUP_MOST = re.compile(
    rf"{_MOST_OPENING}(?:which|what)\s+(?P<g>[\w-]+?)s?{_HAS_THE_END}", re.IGNORECASE
)
#: ... after a count per value: "How many papers per year in ICLR 2026?".
_PER_VALUE = re.compile(
    r"^\W*how\s+many\s+papers\s+(?:(?:are|were)\s+(?:there\s+|published\s+)?)?"
    r"(?:per|each|in\s+each|for\s+each|by)\s+(?P<g>[\w-]+?)s?\b(?P<rest>[^?!]*)",
    re.IGNORECASE,
)
#: ... after a question listing values by their papers: "Which authors have papers at X?".
_VALUES_WITH_PAPERS = re.compile(
    r"^(?P<head>\W*(?:which|what)\s+[\w-]+\s+(?:have|has|had))\s+(?:any\s+|some\s+)?"
    r"(?P<rest>papers\b.*)$",
    re.IGNORECASE,
)
_ENDS = [
    ("most upvoted", "least upvoted"),
    ("most popular", "least upvoted"),
    ("largest number of", "smallest number of"),
    ("most", "fewest"),
]
_HOW_MANY = {"two": 2, "three": 3, "four": 4, "five": 5, "both": 2, "the two": 2}
#: Words that name papers afresh: "which are the newest papers?" asks it of the collection,
#: where "which is the newest?" and "which of those is the newest?" ask it of the last answer.
_AFRESH = re.compile(
    r"\b(?:papers?|works?|articles?|publications?|preprints?|studies|research)\b", re.IGNORECASE
)


#: A topic asked of the papers the last answer cited: "Which of those uses speculative decoding?",
#: "does any of them mention ImageNet?", "which ones are about pruning?".
_AMONG = re.compile(
    rf"{_OPENING}(?:(?:which|what)\s+(?:ones?|of\s+(?:those|these|them|the\s+(?:two|three)"
    r'|"[^"]+"(?:(?:\s*,\s*|\s+and\s+)"[^"]+")*)'
    r"|(?:papers?|one)\s+of\s+(?:those|these|them))"
    r"|(?:does|do|is|are)\s+(?:any|either|one|both)\s+of\s+(?:those|these|them)"
    r"|(?:are\s+there\s+)?(?:any|some)(?:\s+ones)?\s+(?:that|which))\s+"
    r"(?P<verb>(?:(?:is|are|was|were)\s+)?(?:about|on)|us(?:e|es|ing)|mention(?:s|ing)?"
    r"|discuss(?:es|ing)?|stud(?:y|ies|ying)|appl(?:y|ies|ying)|deal(?:s|ing)?\s+with"
    r"|talk(?:s|ing)?\s+about|focus(?:es|ing)?\s+on|address(?:es|ing)?|propos(?:e|es|ing)"
    r"|cover(?:s|ing)?|evaluat(?:e|es|ing)\s+on|rel(?:y|ies|ying)\s+on|employ(?:s|ing)?"
    r"|handl(?:e|es|ing)|tackl(?:e|es|ing)|consider(?:s|ing)?|target(?:s|ing)?"
    r"|explor(?:e|es|ing)|investigat(?:e|es|ing)|look(?:s|ing)?\s+at)\s+"
    r"(?P<topic>[^?!.]+?)\s*[?!.]*\s*$",
    re.IGNORECASE,
)


def topic_among(standalone: str) -> str | None:
    """The topic a follow-up asks of the papers it names by their quoted titles, as "which of
    those ..." is rewritten; else None.

    >>> topic_among('Which of those uses speculative decoding? (about: "A" and "B")')
    'speculative decoding'
    >>> topic_among('does any of them mention ImageNet? (about: "A" and "B")')
    'ImageNet'
    >>> topic_among('any that handle distribution shift? (about: "A" and "B")')
    'distribution shift'
    >>> [topic_among(q) for q in ('Which of those is the newest? (about: "A" and "B")',
    ...     "Which of those uses speculative decoding?")]
    [None, None]
    """
    found = _AMONG.match(own_words(standalone))
    if found is None or '"' not in standalone:
        return None
    topic = re.sub(r"^(?:the|a|an)\s+", "", found["topic"].strip(), flags=re.IGNORECASE)
    return topic if content_words(topic) else None


#: A choice among the papers just named: "which is better for large batch training?", "which
#: one is faster?", "which method scales best?".
_CHOICE = re.compile(
    rf"{_OPENING}which(?:\s+(?:one|method|approach|model|optimi[sz]er|algorithm))?"
    r"(?:\s+of\s+(?:the\s+)?(?:two|three|both))?\s+(?:is|was|would\s+be|works?|performs?|does|did"
    r"|has|scales?|runs?|seems?|looks?)\b[^?!.]*?\b(?:better|worse|faster|slower|best|worst"
    r"|cheaper|simpler|stronger|weaker|easier|harder|preferable|recommended|more|less)\b",
    re.IGNORECASE,
)


#: Papers asked for on a topic: "Which papers compare optimizers?", "what papers study RLHF?"
#: ("which papers?" alone has no topic, and "which papers use it?" points back).
_PAPERS_ON = re.compile(
    rf"{_OPENING}(?:which|what|any|are\s+there(?:\s+any)?)\s+(?:other\s+)?"
    r"(?:papers|works|articles|studies)\s+(?P<topic>[^?!.]+?)\s*[?!.]*\s*$",
    re.IGNORECASE,
)


def transcript(turns: Sequence[Turn], references: Sequence[Paper] = ()) -> str:
    """A conversation as Markdown: each question, its answer with [n] markers, and the papers
    behind the numbers it cites; then ``references`` as BibTeX, for a paper's reference list."""
    parts = ["# Conversation with the collection"]
    for turn in turns:
        parts.append(f"## {turn.question.strip()}\n\n{turn.answer.strip()}")
        if turn.sources:
            listed = "\n".join(f"[{n}] {title}  " for n, title in sorted(turn.sources.items()))
            parts.append(f"Sources:\n\n{listed}")
    if references:
        # In a fence longer than any run of backticks in the entries, so none can close it.
        parts.append(f"## References\n\n{fenced(to_bibtex(references), 'bibtex')}")
    return "\n\n".join(parts) + "\n"


def cited_papers(turns: Sequence[Turn], papers: Iterable[Paper]) -> list[Paper]:
    """The papers the conversation's answers cite, in the order they were first cited."""
    by_title = {paper.title: paper for paper in papers}
    cited = dict.fromkeys(title for turn in turns for title in turn.cited_titles)
    return [by_title[title] for title in cited if title in by_title]


def last_answer_reference(
    text: str, turn: Turn, earlier: Turn | None = None, listed: Turn | None = None
) -> list[tuple[str, str]]:
    """The papers of ``turn`` that ``text`` points at, as (phrase, title): "the second one" is
    its source [2], "the last one" its last, and "it" or "this paper" the first it cited.

    Several at once: "the first two", "both", "them", "those papers", "the first and the
    third".

    >>> turn = Turn(question="q", answer="a", sources={1: "SOAP", 2: "MARS", 3: "Lion"})
    >>> last_answer_reference("Compare it with the second one", turn)
    [('it', 'SOAP'), ('the second one', 'MARS')]
    >>> last_answer_reference("compare this paper with Adam", turn)
    [('this paper', 'SOAP')]
    >>> [len(last_answer_reference(f"compare {group}", turn)) for group in
    ...  ("the first two", "the top 3 papers", "both", "them", "those papers", "SOAP and it")]
    [2, 3, 2, 3, 3, 1]
    >>> [title for _, title in last_answer_reference("compare the first and the last", turn)]
    ['SOAP', 'Lion']

    "Them" and "both" after an answer citing one paper are it and the ``earlier`` turn's
    first: "What is SOAP?", "and MARS?", "compare them".

    >>> soap = Turn(question="What is SOAP?", answer="a", sources={1: "SOAP"})
    >>> mars = Turn(question="and MARS?", answer="a", sources={1: "MARS"})
    >>> [title for _, title in last_answer_reference("compare them", mars, soap)]
    ['SOAP', 'MARS']

    ... and so are "the two" after a question asking the same of something new, whatever its
    answer cites: "What does the Muon paper show?", "and what about Lion?", "compare the two".

    >>> muon = Turn(question="What does the Muon paper show?", answer="a", sources={1: "Muon"})
    >>> lion = Turn(question="and what about Lion?", answer="a", sources={1: "Lion", 2: "LION"})
    >>> [title for _, title in last_answer_reference("compare the two", lion, muon)]
    ['Muon', 'Lion']
    """
    numbered = turn.cited_titles
    group = _GROUP_REF.search(text)
    if group is not None and any(group.group(g) for g in ("both", "all", "they")):
        numbered = _with_earlier(turn, earlier)
    if group and numbered:
        if group.group("list"):
            ordinals = re.findall(_ORDINAL, group.group("list"), re.IGNORECASE)
            titles = [t for o in ordinals if (t := _nth(numbered, o)) is not None]
        elif group.group("all") or group.group("they"):
            titles = list(numbered)
        else:
            said = group.group("n") or group.group("count") or group.group("both")
            many = " ".join(said.lower().split())  # "the  two"
            titles = list(numbered[: int(many) if many.isdigit() else _HOW_MANY[many]])
        said = next(g for g in ("n", "count", "both", "all", "they", "list") if group.group(g))
        phrase = group.group(said) if said in ("both", "all", "they") else group.group(0)
        return [(phrase, title) for title in dict.fromkeys(titles)]
    found: list[tuple[int, str, str]] = []  # (where in the text, phrase, title)
    listed = listed or turn  # "the second one" counts in the list told of (listed_turn)
    for match in _ORDINAL_REF.finditer(text):
        title = _nth(listed.cited_titles, _said(match), listed.sources)
        if title is not None:
            found.append((match.start(), match.group(0), title))
    blanked = _ORDINAL_REF.sub(lambda m: " " * len(m.group(0)), text)  # "one" is not "it"
    pointer = _IT.search(blanked)
    if pointer and numbered:
        found.append((pointer.start(), pointer.group(0), numbered[0]))
    return [(phrase, title) for _, phrase, title in sorted(found)]


def earlier_turn(history: Sequence[Turn]) -> Turn | None:
    """The last turn before the last one whose answer cites a paper: "What is SOAP?", "any
    papers by its authors?" (none), "and MARS?", "compare them" compares SOAP and MARS.

    >>> soap = Turn(question="What is SOAP?", answer="a", sources={1: "SOAP"})
    >>> none = Turn(question="any papers by its authors?", answer="None.")
    >>> mars = Turn(question="and MARS?", answer="a", sources={1: "MARS"})
    >>> earlier_turn([soap, none, mars]) is soap
    True
    """
    return next((turn for turn in reversed(history[:-1]) if turn.sources), None)


def listed_turn(history: Sequence[Turn]) -> Turn:
    """The turn whose list "the third one" counts in: the last, or the list before it where
    the turns since each told of one of its papers by place ("papers on merging", "tell me
    about the 2nd one", "and the last one?": the list's last, not the paper just told about).

    >>> listed = Turn(question="papers on X", answer="a", sources={1: "A", 2: "B", 3: "C"})
    >>> second = Turn(question="tell me about the 2nd one", answer="a", sources={1: "B"})
    >>> last = Turn(question="and the last one?", answer="a", sources={1: "C"})
    >>> listed_turn([listed, second, last]) is listed, listed_turn([listed]) is listed
    (True, True)
    """
    for turn in reversed(history):
        if len(turn.cited_titles) > 1:
            return turn
        if turn.sources and not _ORDINAL_REF.search(turn.question):
            break  # a paper asked about otherwise: its answer is the list
    return history[-1]


def _with_earlier(turn: Turn, earlier: Turn | None) -> list[str]:
    """The titles ``turn`` cites; after an answer citing one, or one to a question asking the
    same of something new ("and what about Lion?"), with the ``earlier`` turn's first before
    it: "What is SOAP?", "and MARS?", "compare them" (or "summarize both")."""
    cited = turn.cited_titles
    switched = bool(_SWITCH.match(turn.question) or _AND_ALSO.match(turn.question))
    if (len(cited) == 1 or switched) and earlier is not None and earlier.cited_titles:
        # The two things asked about, each by its answer's first paper.
        return list(dict.fromkeys([earlier.cited_titles[0], *cited[:1]]))
    return cited


def _both(question: str, turn: Turn, earlier: Turn | None) -> tuple[re.Match[str], bool] | None:
    """Where ``question`` asks about "both" outside a comparison ("summarize both"), and
    whether ``turn`` (and ``earlier``) cite the two papers it names; else None."""
    both = _BOTH.search(question)
    if both is None or _GROUP_REF.search(question):
        return None
    return both, len(_with_earlier(turn, earlier)) == 2


def missing_reference(
    question: str, turn: Turn, earlier: Turn | None = None, listed: Turn | None = None
) -> str | None:
    """What ``question`` points at in ``turn`` that its answer does not hold ("the second
    one" after an answer citing one paper, "both" after one citing three), else None.

    >>> turn = Turn(question="q", answer="a", sources={1: "SOAP"})
    >>> [missing_reference(q, turn) for q in ("Summarize the second one", "and the first one?",
    ...     "what about the 2nd?")]
    ['the second one', None, 'the 2nd']
    >>> three = Turn(question="q", answer="a", sources={1: "SOAP", 2: "MARS", 3: "Lion"})
    >>> [missing_reference("summarize both", t) for t in (three, turn)]
    ['both', 'both']
    >>> lion = Turn(question="What is Lion?", answer="a", sources={1: "Lion"})
    >>> missing_reference("summarize both", turn, earlier=lion)  # SOAP, and Lion before it
    """
    listed = listed or turn  # see listed_turn
    for match in _ORDINAL_REF.finditer(question):
        if _nth(listed.cited_titles, _said(match), listed.sources) is None:
            return match.group(0)
    both = _both(question, turn, earlier)
    if both is not None and not both[1]:
        return both[0].group(0)
    return None


#: A word in the place of an ordinal: "the secnd one", "the thrid paper".
_ORDINAL_PLACE = re.compile(
    r"\bthe\s+(?P<word>[a-z]{4,7})"
    r"(?=\s*(?:,|&|\b(?:ones?|papers?|source|result|and|two|three|four|five)\b))",
    re.IGNORECASE,
)


def spelled_ordinals(text: str) -> str:
    """``text`` with a misspelt ordinal before "one" or "paper" written right: "summarise the
    secnd one" had been searched as words, and found papers on second-order methods.

    >>> spelled_ordinals("summarise the secnd one, then the thrid paper and the first one")
    'summarise the second one, then the third paper and the first one'
    >>> spelled_ordinals("compare the frist and the secnd one; the other one, the best paper")
    'compare the first and the second one; the other one, the best paper'
    >>> spelled_ordinals("What is the latest paper on diffusion?")
    'What is the latest paper on diffusion?'
    """

    def right(match: re.Match[str]) -> str:
        said: str = match.group(0)
        word = match.group("word").lower()
        near = difflib.get_close_matches(word, list(_ORDINALS), n=1, cutoff=0.75)
        if word in _ORDINALS or not near or english_word(word):  # "the latest paper"
            return said
        return said[: match.start("word") - match.start()] + str(near[0])

    return _ORDINAL_PLACE.sub(right, text)


def _said(match: re.Match[str]) -> str:
    """The ordinal or the number an ``_ORDINAL_REF`` match says: "second", "2"."""
    return match.group(1) or match.group(2)


def _nth(titles: Sequence[str], ordinal: str, sources: dict[int, str] | None = None) -> str | None:
    """The title "the <ordinal> one" names ("second", "last"), if there is one; a number
    ("paper 2", "[2]") names the answer's source of that number, where ``sources`` are given.

    >>> [_nth(["A", "B", "E"], o, {1: "A", 2: "B", 5: "E"}) for o in ("third", "5", "3")]
    ['E', 'E', None]
    """
    if ordinal.isdigit() and sources is not None:
        return sources.get(int(ordinal))
    n = int(ordinal) if ordinal.isdigit() else _ORDINALS[ordinal.lower()]
    index = n - 1 if n > 0 else n
    return titles[index] if -len(titles) <= index < len(titles) else None


def refers_back(question: str) -> bool:
    """Whether ``question`` points at the conversation so far: a pronoun ("its limitations"),
    a demonstrative before what was discussed ("those papers"), or "the second one".

    >>> [refers_back(q) for q in ("can you put that in bullet points?", "as a table?",
    ...     "in simpler words", "papers in a table", "Which papers use bullet points?")]
    [True, True, True, False, False]"""
    return bool(_PRONOUN.search(question) or _ORDINAL_REF.search(question))


def condense_rule(
    question: str,
    history: Sequence[Turn],
    *,
    self_contained: bool = False,
    order: str | None = None,
    follows: bool = False,
) -> str:
    """A standalone question without a model: resolve "the second one" to a title, and give a
    question that leans on the last turn ("what are its limitations?") that turn's topic.

    A question that does not refer back starts afresh when it is ``self_contained`` (it states
    its own constraints, such as "posted in 2024") or has three content words or more: nothing
    of an earlier turn's topic or constraints leaks into it. One that asks the same of
    something new ("and what about Lion?") asks about that alone.

    >>> turn = Turn(question="How does SOAP improve Shampoo?", answer="a", sources={1: "SOAP"})
    >>> [condense_rule(q, [turn]) for q in ("And what about Lion?", "ok, and for GANs?",
    ...                                     "and causal inference?")]
    ['Lion', 'GANs', 'causal inference']
    >>> condense_rule("What about its limitations?", [turn])
    'What about its limitations? (about: "SOAP"; How does SOAP improve Shampoo?)'
    >>> condense_rule("Which of those are from 2025?", [turn])
    'Which of those are from 2025? (about: How does SOAP improve Shampoo?)'
    >>> two = Turn(question="q", answer="a", sources={1: "SOAP", 2: "MARS", 3: "Lion"})
    >>> condense_rule("Tell me about the first two", [two])
    'Tell me about "SOAP" and "MARS"'
    >>> condense_rule("What data did they use?", [turn])  # the one paper's authors
    'What data did they use? (about: "SOAP"; How does SOAP improve Shampoo?)'
    >>> condense_rule("Summarize both", [two.model_copy(update={"sources": {1: "A", 2: "B"}})])
    'Summarize "A" and "B"'
    >>> condense_rule("Who wrote them?", [two])  # the papers the answer cited
    'Who wrote them? (about: "SOAP" and "MARS" and "Lion")'
    >>> condense_rule("any that handle distribution shift?", [two])
    'any that handle distribution shift? (about: "SOAP" and "MARS" and "Lion")'
    >>> condense_rule("which one handles distribution shift?", [two])
    'which one handles distribution shift? (about: "SOAP" and "MARS" and "Lion")'
    >>> condense_rule("on pruning", [Turn(question="Give me 5 papers", answer="Ask about ...")])
    'Give me 5 papers on pruning'
    >>> condense_rule("None of these, anything on KV cache compression?", [two])
    'anything on KV cache compression?'
    >>> condense_rule("none of these, I meant graph neural networks", [two])
    'graph neural networks'
    >>> asked = Turn(question="what's grokking", answer="a", sources={1: "Edge of Stability"})
    >>> condense_rule("which papers talk about it?", [asked])
    'which papers talk about grokking?'

    A question ``follows`` the last turn, whatever its length, where it asks what something
    is that the last answer's papers mention ("what is the mean radial error?": the caller
    reads the papers).

    >>> condense_rule("what is the mean radial error?", [turn], follows=True)
    'what is the mean radial error? (about: "SOAP"; How does SOAP improve Shampoo?)'

    A question that asks nothing but an ``order`` (in words the parser reads back) asks it of
    the last turn's papers: the last question again, in that order.

    >>> [condense_rule(q, [turn], self_contained=True, order="newest first")
    ...  for q in ("Which of those is the newest?", "Which are the newest papers?")]
    ['How does SOAP improve Shampoo? (newest first)', 'Which are the newest papers?']
    >>> ordered = Turn(question="q", answer="a", rewritten_query="Papers on X? (newest first)")
    >>> condense_rule("And the oldest?", [ordered], self_contained=True, order="oldest first")
    'Papers on X? (oldest first)'

    A constraint asked of the papers a page ("more") showed keeps those papers.

    >>> page = Turn(question="more", answer="a", sources={1: "A", 2: "B"},
    ...             rewritten_query="papers on X (papers 5 to 6)")
    >>> condense_rule("which of these have code?", [page], self_contained=True)
    'which of these have code? (about: "A" and "B")'
    """
    if not history:
        return question
    last = history[-1]
    searched = last.rewritten_query or last.question  # what the last turn asked
    turned_down = _TURNED_DOWN.match(question)
    if turned_down and content_words(question[turned_down.end() :]):
        # What it asks instead: "these" turned down are not what it is about.
        question = question[turned_down.end() :]
    like = similar_request(question, history) or same_authors_request(question, history)
    if like is not None:
        return like
    # "and the least?" after "who wrote it? (about: ...; what is the most upvoted paper?)":
    # the other end of the question that asked for one.
    other = next(filter(None, (_other_end(question, q) for q in _asked_so_far(searched))), None)
    if other is not None:
        return other
    shifted = _year_shifted(question, searched)
    if shifted is not None:
        return shifted
    counted = _how_many_of(question, own_words(searched)) or _listed_of(question, searched)
    if counted is not None:
        return counted
    theme = _theme_named(question, last.answer)
    if theme is not None:  # "tell me more about the second theme"
        return theme
    if order is not None and (refers_back(question) or not _AFRESH.search(question)):
        # "and the oldest?" after "which is the newest?"
        return f"{_reordered(_unordered(searched))} ({order})"
    if self_contained and not (refers_back(question) or follows):
        return question
    earlier = earlier_turn(history)
    both = _both(question, last, earlier)
    if both is not None and both[1]:  # "summarize both": the two papers, by their titles
        named = quoted_titles(_with_earlier(last, earlier))
        return question[: both[0].start()] + named + question[both[0].end() :]
    group = _GROUP_REF.search(question)
    if group and (group["n"] or group["count"] or group["list"]):
        # "Tell me about the first two": those papers' titles, as "the second one" is its.
        titles = [title for _, title in last_answer_reference(question, last)]
        if len(titles) > 1:
            named = quoted_titles(titles)
            return question[: group.start()] + named + question[group.end() :]
    # One of them, after the groups: "the first and the second" is two.
    ordinal = _ORDINAL_REF.search(question)
    listed = listed_turn(history)  # "and the last one?" after "tell me about the 2nd one"
    title = _nth(listed.cited_titles, _said(ordinal), listed.sources) if ordinal else None
    if ordinal and title is not None:
        return question[: ordinal.start()] + f'"{title}"' + question[ordinal.end() :]
    switch = _SWITCH.match(question) or _AND_ALSO.match(question)
    if switch and not refers_back(question) and content_words(switch.group("subject")):
        asked = own_words(searched)
        recount = (
            _counted_on(switch["subject"], asked)
            or _swapped(switch["subject"], asked)
            or _renamed(switch["subject"], asked, last.cited_titles)
            or _used_again(switch["subject"], asked)
            or _asked_of(switch["subject"], searched)
        )
        if recount is not None:
            return recount
        # "And what about Lion?" after a question on SOAP asks about Lion: the last turn's
        # paper and topic would find SOAP again.
        return switch.group("subject")
    if not last.sources and _CONTINUED.match(question):
        # "on pruning" after "give me 5 papers", which named nothing to search for: one
        # request, typed in two messages.
        return f"{searched.rstrip(' ?.!')} {question.strip()}"
    cited = last.cited_titles
    if _CHOICE.match(question) and 1 < len(cited) <= 5 and not _PRONOUN.search(question):
        # "which is better for large batch training?" after a comparison: one of those papers.
        # Asked afresh, it had lost them.
        return f"{question} (about: {quoted_titles(cited)})"
    papers_on = _PAPERS_ON.match(question)
    if papers_on and not refers_back(question) and content_words(papers_on["topic"]):
        # "Which papers compare optimizers?" after "What is Muon?": papers asked for on a
        # topic of its own. Searched with Muon's title, Muon's paper had come first.
        return question
    subject = named_subject(own_words(searched))
    it = _POINTED.search(papers_on["topic"]) if papers_on and subject else None
    if papers_on and subject and it:
        # "which papers talk about it?" after "what's grokking": papers on what was asked
        # about. Searched with the paper the answer quoted, that paper alone had come back.
        start = papers_on.start("topic") + it.start()
        return question[:start] + subject + question[papers_on.start("topic") + it.end() :]
    if _PRONOUN.search(question) or follows or len(content_words(question)) < STANDALONE_WORDS:
        # "Which of those ...?" points at all the last answer's papers: their topic, not the
        # first one's title, which pulled the search toward that paper's own words. After an
        # answer citing one paper, "they" are its authors: "What data did they use?".
        cited = last.cited_titles
        authors = len(cited) == 1 and not _THOSE.search(question)
        one = cited and (authors or not _PLURAL.search(question))
        # "It" is one paper, its title quoted: that paper alone, whatever the topic's
        # constraints ("what is the most upvoted paper?") would otherwise sort in.
        about = f'"{cited[0]}"; {_unordered(searched)}' if one else searched
        page = paged(searched)  # after "more": those shown, not the question's first page
        narrows = self_contained and not page
        if not one and _PLURAL.search(question) and not narrows and 1 < len(cited) <= 5:
            # "Who wrote them?", "What data do they use?": the papers the answer cited, by
            # their titles. Searched again as its topic, the question found others beside
            # them. One that adds constraints ("Which of those are from 2025?") narrows it,
            # except the papers of a page: "which of these have code?" after "more" had
            # searched "... (papers 5 to 9)" as words.
            about = quoted_titles(cited)
        return f"{question} (about: {_flat(about)})"
    return question


def quoted_titles(titles: Sequence[str]) -> str:
    """Papers named by their whole titles, quoted, as a standalone question names them: the
    search puts those papers first and an extracted answer quotes them alone.

    >>> quoted_titles(["SOAP", "MARS"])
    '"SOAP" and "MARS"'
    """
    return " and ".join(f'"{title}"' for title in titles)


#: An order the question says in its own words, before the papers: "the most recent papers".
_ORDER_SAID = re.compile(
    r"\b(?:newest|latest|most\s+recent|oldest|earliest|most\s+(?:up)?voted|most\s+popular"
    r"|most\s+liked|top[- ]voted)\s+(?=(?:[\w-]+\s+){0,3}?(?:papers?|ones?|works?|articles?)\b)",
    re.IGNORECASE,
)


def _reordered(asked: str) -> str:
    """``asked`` without the order it says in its own words, for another order to take its
    place: "which one has the most upvotes?" after "What are the most recent papers on X?"
    had kept "most recent" as words to search.

    >>> _reordered("What are the most recent papers on LLM reasoning?")
    'What are the papers on LLM reasoning?'
    """
    return " ".join(_ORDER_SAID.sub("", asked).split())


def _unordered(asked: str) -> str:
    """``asked`` without the order a follow-up added ("Papers on X? (most authors)"): one
    paper asked about after it has nothing to order.

    >>> _unordered("papers on conformal prediction (most authors)")
    'papers on conformal prediction'
    >>> _unordered("papers from 2025 (second newest one)")
    'papers from 2025'
    """
    return ORDER_ADDED.sub("", asked)


def narrowing(
    question: str,
    last: Turn,
    *,
    constraints_only: bool,
    listing: Callable[[str], bool] | None = None,
) -> str | None:
    """The last question within the constraints a follow-up adds, for "what about from 2025?"
    or "and for ICLR 2026?" (``constraints_only``: the parser found constraints and no topic in
    it) after "Which papers are about diffusion models?", else None. Read as a new subject,
    it had listed every paper from 2025.

    >>> turn = Turn(question="Which papers are about diffusion?", answer="a")
    >>> asked = ("What about from 2025?", "only the ones from 2024", "which ones have code?",
    ...          "any from 2023?")
    >>> [narrowing(q, turn, constraints_only=True)[-11:] for q in asked]
    ['(from 2025)', '(from 2024)', '(have code)', '(from 2023)']
    >>> narrowing("narrow it down to 2025", turn, constraints_only=True)
    'Which papers are about diffusion? (from 2025)'

    >>> more = Turn(question="more", answer="a", rewritten_query=f"{turn.question} (papers 6 to 7)")
    >>> narrowing("and what about from 2024?", more, constraints_only=True)
    'Which papers are about diffusion? (from 2024)'

    A year said alone is a date, and asked instead of the one the last turn narrowed to;
    after a listing by metadata (``listing`` says whether a question is one, asked only
    then), "which of those are about X?" narrows it to X.

    >>> narrowed = Turn(question="any from 2025?", answer="a",
    ...                 rewritten_query=f"{turn.question} (from 2025)")
    >>> narrowing("what about 2024?", narrowed, constraints_only=False)
    'Which papers are about diffusion? (from 2024)'
    >>> dated = Turn(question="papers with code from 2024", answer="a")
    >>> narrowing("what about 2025?", dated, constraints_only=False)
    'papers with code from 2025'
    >>> narrowing("what about the 2020s?", Turn(question="papers from the 2010s", answer="a"),
    ...           constraints_only=True)
    'papers from the 2020s'
    >>> coded = Turn(question="which ones have code?", answer="a",
    ...              rewritten_query=f"{turn.question} (have code)")
    >>> narrowing("and which don't?", coded, constraints_only=False)
    'Which papers are about diffusion? (without code)'
    >>> narrowing("and which don't?", Turn(question="Which papers release code?", answer="a"),
    ...           constraints_only=False)
    'Which papers without code?'
    >>> listed = Turn(question="Which papers have more than 5 authors?", answer="a")
    >>> narrowing("which of those are about reasoning?", listed, constraints_only=False,
    ...           listing=lambda asked: True)
    'Which papers have more than 5 authors? (about reasoning)'
    >>> narrowing("anything on agents among them?", listed, constraints_only=False,
    ...           listing=lambda asked: True)
    'Which papers have more than 5 authors? (on agents)'
    """
    asked = last.rewritten_query or last.question
    if page := paged(asked):  # after "give me 2 more": the question, from the top
        asked = page[0]
    # What the last turn added to the question before it ("which ones have code?"), if any.
    added = _ONLY.match(last.question) or _WHICH_ONES.match(last.question)
    having = _HAVING.match(added["subject"].strip()) if added else None
    if added and having and _THE_REST.match(question):
        # "and which don't?" after "which ones have code?": the others, without it
        return f"{_before_narrowing(asked, added)} (without {having['what']})"
    flipped = code_flipped(own_words(asked)) if _THE_REST.match(question) else None
    if flipped is not None:
        # ... and after "Which papers release code?", which states it itself (it had been
        # asked of the first paper listed)
        return flipped
    among = _ABOUT_AMONG.match(question) or _ABOUT_AMONG_AFTER.match(question)
    if among is not None and listing is not None and listing(last.rewritten_query or last.question):
        return f"{asked} ({among['subject']})"
    switch = _SWITCH.match(question) or _AND_ALSO.match(question)
    subject = switch["subject"].strip() if switch else ""
    if _YEAR.fullmatch(subject):
        subject, constraints_only = f"from {subject}", True
    if switch is not None and constraints_only:
        # "what about 2024?" after "any from 2025?": instead of 2025, not within it
        before = added or _SWITCH.match(last.question) or _AND_ALSO.match(last.question)
        if before is not None:
            asked = _before_narrowing(asked, before)
        year = _YEAR_ONLY.fullmatch(subject)
        if year and len(_YEAR_OR_DECADE.findall(asked)) == 1:
            # "what about 2025?" after "papers with code from 2024": that year instead; so
            # is a decade ("what about the 2020s?" after "papers from the 2010s", which had
            # kept the 2010s)
            return _YEAR_OR_DECADE.sub(year["year"], asked)
        return f"{asked} ({subject})"
    adding = _ONLY.match(question) or _WHICH_ONES.match(question)
    year = _YEAR_ONLY.fullmatch(adding["subject"].strip()) if adding else None
    if year:  # "narrow to 2025", "only 2024": a year alone is a date
        return f"{asked} (from {year['year']})"
    if adding is None or not constraints_only:
        return None
    return f"{asked} ({adding['subject']})"


def narrowed_by(question: str) -> str | None:
    """What a follow-up that only narrows the last question narrows it by, else None.

    >>> [narrowed_by(q) for q in ("narrow it down to 2025", "only the ones with code", "why?")]
    ['2025', 'with code', None]
    """
    adding = _ONLY.match(question)
    return adding["subject"] if adding else None


def _before_narrowing(asked: str, said: re.Match[str]) -> str:
    """``asked`` without what the follow-up ``said`` added to it: " (have code)", " (from
    2025)" for "what about 2025?"."""
    subject = said["subject"].strip()
    return asked.removesuffix(f" ({subject})").removesuffix(f" (from {subject})")


def _year_shifted(question: str, asked: str) -> str | None:
    """The last question asked of the year before or after the one it names, for "and the
    year before?" after "papers from 2025 on reasoning", else None. Read as a question of its
    own, it had been asked of the last answer's first paper.

    >>> _year_shifted("and the year before?", "papers from 2025 on reasoning")
    'papers from 2024 on reasoning'
    >>> _year_shifted("what about the following year?", "Which papers are about RL? (from 2024)")
    'Which papers are about RL? (from 2025)'
    >>> [_year_shifted("and the year before?", q) for q in ("What is SOAP?", "from 2024 to 2025")]
    [None, None]
    """
    match = _YEAR_SHIFT.match(question)
    years = list(_A_YEAR.finditer(asked))
    if match is None or len(years) != 1:
        return None
    said = (match["dir"] or match["next"]).lower()
    step = -1 if said in ("before", "earlier", "previous", "prior") else 1
    year = years[0]
    return f"{asked[: year.start()]}{int(year.group(0)) + step}{asked[year.end() :]}"


#: A theme of the last answer pointed at: "the second theme", "topic 3", "the last group".
_THEME_REF = re.compile(
    r"\b(?:the\s+)?(?P<nth>first|second|third|fourth|fifth|sixth|seventh|eighth|last"
    r"|[1-8](?:st|nd|rd|th))\s+(?:theme|topic|group|cluster)\b"
    r"|\b(?:theme|topic|group|cluster)\s+(?:number\s+)?(?P<n>[1-8])\b",
    re.I,
)
_THEME_NTH = {"sixth": 6, "seventh": 7, "eighth": 8} | _ORDINALS


def _theme_named(question: str, answer: str) -> str | None:
    """The papers on a theme the last answer named, for "tell me more about the second theme"
    after "What topics are covered?", else None. Searched as words, "theme" had found papers
    that use it.

    >>> said = f"They fall into 2 themes, {NAMED_BY}wombats, burrows (6 papers); quantum "
    >>> said += "annealing, spins (5 papers). The most typical paper of each theme is listed."
    >>> [_theme_named(q, said) for q in ("tell me more about the second theme",
    ...     "papers of topic 1", "the last group?", "the second one")]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['papers on quantum annealing, spins', 'papers on wombats, burrows',
     'papers on quantum annealing, spins', None]
    """
    pointed = _THEME_REF.search(question)
    start = answer.find(NAMED_BY)
    if pointed is None or start < 0:
        return None
    end = answer.find(". ", start)
    themes = answer[start + len(NAMED_BY) : end if end > 0 else None].rstrip(".").split("; ")
    said = (pointed["nth"] or pointed["n"]).lower()
    nth = int(said[0]) if said[0].isdigit() else _THEME_NTH[said]
    index = nth - 1 if nth > 0 else nth  # "last": -1
    if not -len(themes) <= index < len(themes):
        return None
    words = re.sub(r"\s+\(\d+ papers?\)$", "", themes[index])
    return f"papers on {words}"


def _other_end(question: str, asked: str) -> str | None:
    """The last question asked of the other end, for "and the fewest?" after "Which listing
    has the most papers?" (or the other way round), else None.

    >>> _other_end("And the fewest?", "Which listing has the most papers?")
    'Which listing has the fewest papers?'
    >>> _other_end("the most?", "Which paper has the fewest authors?")
    'Which paper has the most authors?'
    >>> [_other_end(q, "What is SOAP?") for q in ("And the fewest?", "the most cited?")]
    [None, None]

    "who has the most?" after a question listing values by their papers asks for the most.

    >>> _other_end("who has the most?", "Which authors have papers at ICLR 2026?")
    'Which authors have the most papers at ICLR 2026?'
    >>> _other_end("which has the fewest?", "What categories have papers on RL?")
    'What categories have the fewest papers on RL?'
    >>> _other_end("which of them has the most papers?", "How many authors are there in ICLR?")
    'Which author has the most papers in ICLR?'
    >>> _other_end("who has the fewest?", "How many categories are there?")
    'Which category has the fewest papers?'

    ... and "which one has the most?" after a mean, the paper with the most.

    >>> _other_end("which paper has the most?", "What is the average number of upvotes?")
    'Which paper has the most upvotes?'

    "which year has the fewest?" after a count per year asks it within the same constraints.

    >>> _other_end("which year has the fewest?", "How many papers per year in ICLR 2026?")
    'Which year has the fewest papers in ICLR 2026?'
    >>> _other_end("and which month had the most?", "How many papers were published each month?")
    'Which month has the most papers?'
    """
    group = _GROUP_MOST.match(question)
    per = _PER_VALUE.match(asked) if group else None
    if group and per and group["g"].lower() == per["g"].lower():
        # "which year has the fewest?" after "How many papers per year in ICLR 2026?": within
        # its constraints; asked alone, it had counted the whole collection.
        rest = per["rest"].rstrip(" ?!.")
        return f"Which {per['g']} has the {group['end'].lower()} papers{rest}?"
    most = _WHO_HAS_MOST.match(question)
    mean = _AVERAGED.search(asked) if most else None
    if most and mean:
        # "which paper has the most?" after "What is the average number of upvotes?"
        return f"Which paper has the {most['end'].lower()} {mean['field'].lower()}?"
    values = _VALUES_ASKED.match(asked) if most else None
    if most and values:
        # "which of them has the most papers?" after "How many authors are there?": asked of
        # the authors (it had been asked of the first paper the answer listed)
        one = re.sub(r"ies$", "y", values["g"].lower()).removesuffix("s")
        rest = values["rest"].rstrip(" ?!.")
        return f"Which {one} has the {most['end'].lower()} papers{rest}?"
    each = _VALUES_WITH_PAPERS.match(asked) if most else None
    if most and each:
        # "who has the most?" after "Which authors have papers at ICLR 2026?": the most of
        # those papers; asked alone, it had counted the whole collection.
        return f"{each['head']} the {most['end'].lower()} {each['rest']}"
    match = _OTHER_END.match(question)
    if match is None:
        return None
    for many, few in _ENDS:
        said, wanted = (many, few) if match["few"] else (few, many)
        flipped = re.sub(rf"\b{said}\b", wanted, asked, count=1, flags=re.IGNORECASE)
        if flipped != asked:
            return flipped
    return None


#: A count within a topic: "Which listing has the most papers on LLMs?", "How many papers on
#: pruning are in each listing?".
_COUNT_ON = re.compile(
    r"(?P<head>\b(?:most|fewest|least|how many|number of)\b[^?!.]*?\b"
    r"(?:papers?|works?|publications?|articles?)\s+(?:on|about)\s+)"
    r"(?P<topic>[^?!.]+?)"
    r"(?P<tail>\s+(?:are there\s+|are\s+|were\s+)?(?:per|in each|for each|by)\s+\w+)?"
    r"(?P<end>\s*[?!.]*\s*)$",
    re.IGNORECASE,
)


#: "How many are there?", "and how many of them?", "how many in total?", "how many is that?",
#: "how many did you find?": a count of the last question's papers.
_HOW_MANY_BACK = re.compile(
    r"^\W*(?:(?:and|so|ok(?:ay)?)\b[\s,]*)*how\s+many(?:\s+(?:(?:are|were|is|was)\s+(?:there|that"
    r"|those|these|they)|of\s+(?:them|those|these)|in\s+total|in\s+all|altogether|papers|results"
    r"|(?:did|do)\s+you\s+(?:find|have|see)|match(?:ed)?|found))*\s*[?!.]*\s*$",
    re.I,
)
#: ... of them, with a constraint: "how many of them have code?", "how many of those are from
#: 2025?" (their count within it).
_HOW_MANY_OF_THEM = re.compile(
    r"^\W*(?:(?:and|so|ok(?:ay)?)\b[\s,]*)*how\s+many\s+of\s+(?:them|those|these)\s+"
    r"(?:are\s+|were\s+)?(?P<constraint>[^?!.]+?)\s*[?!.]*\s*$",
    re.I,
)
#: ... as a share of the collection: "what fraction is that?", "and the proportion?".
_SHARE_BACK = re.compile(
    r"^\W*(?:(?:and|so|ok(?:ay)?)\b[\s,]*)*(?:(?:what|which)\s+(?:is\s+)?)?(?:the\s+|as\s+a\s+)?"
    r"(?:proportion|fraction|share|percentage|percent)(?:\s+(?:is\s+)?(?:that|this|it|those|of\s+"
    r"(?:that|those|them|these|the\s+(?:collection|total|whole))))?\s*[?!.]*\s*$",
    re.I,
)
#: A count of papers asked, up to what it counts: "How many " of "How many papers have code?".
_COUNTED = re.compile(r"\W*how\s+many\s+(?=papers?\b)", re.I)
#: A question asking which papers: "Which ICLR 2026 papers are about LLMs?", "find me papers
#: about X", "papers on pruning".
_WHICH_PAPERS = re.compile(
    r"^\s*(?:(?:which|what)\s+|(?:(?:can|could)\s+you\s+)?(?:please\s+)?(?:find|show|list|give"
    r"|get)\s+(?:me\s+|us\s+)?(?:some\s+|all\s+|the\s+)?)?"
    r"(?P<rest>(?:[\w.-]+\s+){0,3}?papers?\b.*)$",
    re.I,
)


def _how_many_of(question: str, asked: str) -> str | None:
    """The last question asked as a count, for "how many are there?" after "Which ICLR 2026
    papers are about LLMs?", else None.

    >>> _how_many_of("How many are there?", "Which ICLR 2026 papers are about LLMs?")
    'How many ICLR 2026 papers are about LLMs?'
    >>> _how_many_of("how many are there?", "find me papers about pruning (from 2025)")
    'How many papers about pruning (from 2025)'
    >>> _how_many_of("How many are there?", "What is SOAP?") is None
    True
    >>> {_how_many_of(q, "Which papers mention ImageNet?") for q in ("how many is that?",
    ...     "So how many did you find?", "how many papers were there?")}
    {'How many papers mention ImageNet?'}

    ... within what it adds: "how many of them have code?" after "papers on RL".

    >>> _how_many_of("how many of them have code?", "papers on RL")
    'How many papers on RL (have code)'

    ... or as a share of the collection: "what fraction is that?".

    >>> [_how_many_of(q, a) for q, a in (("what fraction is that?", "Which papers are about X?"),
    ...     ("and the proportion?", "How many papers have code?"))]
    ['What proportion of papers are about X?', 'What proportion of papers have code?']
    """
    which = _WHICH_PAPERS.match(asked)
    if _SHARE_BACK.match(question):  # "what fraction is that?": the last count, as a share
        counted = _COUNTED.match(asked)
        if counted:
            return f"What proportion of {asked[counted.end() :]}"
        return f"What proportion of {which['rest']}" if which else None
    within = _HOW_MANY_OF_THEM.match(question)
    if which is None or (_HOW_MANY_BACK.match(question) is None and within is None):
        return None
    rest = which["rest"].rstrip(" ?!.")
    return f"How many {rest} ({within['constraint']})" if within else f"How many {which['rest']}"


#: The papers a count counted, asked for: "list them", "show me those", "which are they?".
_LIST_BACK = re.compile(
    r"^\W*(?:(?:and|so|ok(?:ay)?|then|now)\b[\s,]*)*(?:(?:please\s+)?(?:list|show|name|give)"
    r"(?:\s+me)?\s+(?:them|those|these|the\s+papers)(?:\s+all)?|which\s+(?:ones\s+)?are\s+"
    r"(?:they|those|these)|what\s+are\s+they)(?:\s*,?\s*please)?\s*[?!.]*\s*$",
    re.I,
)


def _listed_of(question: str, asked: str) -> str | None:
    """The last count asked as a list, for "list them" after "How many papers are from ICLR
    2026?", else None. Read with the count's words, "list them" had been taken for a count of
    papers per listing.

    >>> [_listed_of(q, "How many papers are from ICLR 2026?") for q in ("list them",
    ...     "which are they?", "list the authors")]
    ['Which papers are from ICLR 2026?', 'Which papers are from ICLR 2026?', None]
    """
    counted = _COUNTED.match(asked)
    if counted is None or not _LIST_BACK.match(question):
        return None
    return f"Which {asked[counted.end() :]}"


#: A topic said after "about" or "on": "Which ICLR 2026 papers are about reinforcement learning?"
_ABOUT_TOPIC = re.compile(
    r"\b(?P<on>about|on|regarding|concerning)\s+(?P<topic>[^?!.]+?)(?P<end>\s*[?!.]*\s*)$", re.I
)


def _renamed(subject: str, asked: str, cited: Sequence[str]) -> str | None:
    """The last question asked of another paper, for "and SOAP?" after "Which venue is MARS
    from?", whose answer cited the paper that name begins the title of; else None. Asked
    alone, "SOAP" had lost what was asked of it (its venue).

    Only what is asked of any paper is asked again (its venue, date, authors, code): "How
    does MARS improve Adam?" is MARS's question, and "and Lion?" asks about Lion alone.

    >>> mars = ["MARS: Unleashing the Power of Variance Reduction"]
    >>> [_renamed("SOAP", q, mars) for q in ("which venue is MARS from?", "What is Muon?",
    ...     "How does MARS improve Adam?", "Does MARS have code?")]
    ['which venue is SOAP from?', None, None, 'Does SOAP have code?']
    """
    name = title_name(cited[0]) if cited else ""
    if not name or len(name.split()) > 3 or len(subject.split()) > 4:
        return None
    said = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", asked, re.IGNORECASE)
    if said is None:
        return None
    rest = asked[: said.start()] + subject + asked[said.end() :]
    if content_words(asked[: said.start()] + asked[said.end() :]) - _ASKING - _OF_ANY_PAPER:
        return None
    return rest


#: Papers asked for by what they do with a thing: "Which papers use ImageNet?", "what papers
#: evaluate on GSM8K?", "Do any papers mention GRPO?".
_PAPERS_DOING = re.compile(
    r"^(?P<head>\W*(?:(?:which|what)\s+(?:[\w-]+\s+){0,2}?|(?:do|does|did)\s+(?:any|some)\s+)"
    r"(?:papers?|works?|studies|articles?)\s+(?:use|uses|used|mention|mentions|evaluate\s+on"
    r"|evaluates\s+on|report\s+on|reports\s+on|train\s+on|trains\s+on|benchmark\s+on|cite"
    r"|cites|apply|applies)\s+)(?P<thing>[^?.!]+?)(?P<end>\s*[?.!]*)$",
    re.IGNORECASE,
)


def _used_again(subject: str, asked: str) -> str | None:
    """The last question asked of another thing, for "and CIFAR-10?" after "Which papers use
    ImageNet?": asked alone, "CIFAR-10" had lost what was asked of it. One said after a
    preposition ("and about LLMs?") is another topic (see _swapped).

    >>> _used_again("CIFAR-10", "Which papers use ImageNet?")
    'Which papers use CIFAR-10?'
    >>> [_used_again(s, "Which papers use ImageNet?") for s in ("about LLMs", "for 2024")]
    [None, None]
    >>> _used_again("Lion", "How does SOAP improve Shampoo?") is None
    True
    """
    doing = _PAPERS_DOING.match(asked)
    if doing is None or len(subject.split()) > 3 or _CONTINUED.match(subject):
        return None
    return f"{doing['head']}{subject}{doing['end']}"


#: Words of what may be asked of any paper: "Which venue is MARS from?", "Who wrote it?".
_OF_ANY_PAPER_WORDS = """
    venue listing listed published publish released come came wrote written author many have
    has code link url read date year upvote doi arxiv github repo open source cite bibtex where
    when who
    """
_OF_ANY_PAPER = frozenset(_OF_ANY_PAPER_WORDS.split())


def _swapped(subject: str, asked: str) -> str | None:
    """The last question asked again of another topic, for "and about LLMs?" (a topic said
    after "about" or "on") after "Which ICLR 2026 papers are about reinforcement learning?",
    else None. Searched alone, "about LLMs" had dropped the venue.

    >>> _swapped("about LLMs", "Which ICLR 2026 papers are about reinforcement learning?")
    'Which ICLR 2026 papers are about LLMs?'
    >>> [_swapped(s, "What is SOAP?") for s in ("about LLMs", "Lion", "for GANs")]
    [None, None, None]

    So is one said after "for", "in", "with" or "using", where the last question's topic ends
    with the same word: "what about for image editing?" after "diffusion models for robotics"
    (searched alone, "for image editing" had lost the diffusion models).

    >>> _swapped("for image editing", "I'm interested in diffusion models for robotics")
    "I'm interested in diffusion models for image editing"
    >>> _swapped("in NLP", "Which papers use transformers in vision?")
    'Which papers use transformers in NLP?'

    Where the last question, on a topic, has no such word, the use narrows its topic: "what
    about for regression?" after "papers on conformal prediction" (alone, it had lost
    conformal prediction). "and of Shampoo?" asks the last question's "of" again.

    >>> _swapped("for regression", "papers on conformal prediction")
    'papers on conformal prediction for regression'
    >>> _swapped("of Shampoo", "What are the limitations of SOAP?")
    'What are the limitations of Shampoo?'
    >>> [_swapped(s, "How many papers per year?") for s in ("per listing", "by venue")]
    ['How many papers per listing?', None]
    >>> _swapped("per year", "papers on RL")
    'How many papers on RL per year'
    """
    said = _ABOUT_TOPIC.fullmatch(subject.strip())
    last = _ABOUT_TOPIC.search(asked)
    if said is None or last is None:
        topic = last
        said = _OTHER_USE.fullmatch(subject.strip())
        if said is None:
            return None
        # the last "for" of the question: "models for robotics", not "in diffusion models"
        last = re.search(
            rf"(?s).*\b{said['on']}\s+(?P<topic>[^?!.]+?)\s*[?!.]*\s*$", asked, re.IGNORECASE
        )
        which = _WHICH_PAPERS.match(asked)
        if last is None and said["on"].lower() == "per" and which:
            # "and per year?" after "papers on RL": how many there are per year
            return f"How many {which['rest'].rstrip(' ?!.')} per {said['topic']}"
        if last is None and topic is not None and said["on"].lower() not in ("of", "per"):
            end = topic.end("topic")
            return f"{asked[:end]} {said['on']} {said['topic']}{asked[end:]}"
        if last is None:
            return None
    return asked[: last.start("topic")] + said["topic"] + asked[last.end("topic") :]


#: A use or a field said after its own word: "for image editing", "in NLP", "with GNNs"; what
#: is asked of: "of Shampoo"; what is counted by: "per listing", "by venue".
_OTHER_USE = re.compile(r"(?P<on>for|in|with|using|of|per|by)\s+(?P<topic>[^?!.]+?)\s*[?!.]*", re.I)


def _counted_on(subject: str, asked: str) -> str | None:
    """The last question's count asked again within another topic, for "what about pruning?"
    after "Which listing has the most papers on LLMs?", else None.

    >>> _counted_on("on pruning", "Which listing has the most papers on LLMs?")
    'Which listing has the most papers on pruning?'
    >>> _counted_on("diffusion", "How many papers on LLMs are there per year?")
    'How many papers on diffusion are there per year?'
    >>> _counted_on("Lion", "How does SOAP improve Shampoo?") is None
    True
    """
    match = _COUNT_ON.search(asked)
    if match is None:
        return None
    topic = re.sub(r"^(?:on|about)\s+", "", subject.strip(), flags=re.IGNORECASE)
    return asked[: match.start("topic")] + topic + asked[match.end("topic") :]


_ABOUT = re.compile(r"(?s)(?P<asked>.*) \(about: (?P<about>.*)\)")
#: The thing a question asks papers about, pointed at: "talk about it", "mention this".
_POINTED = re.compile(r"\bit\b|\b(?:this|that)\s*$", re.IGNORECASE)


def _asked_so_far(standalone: str) -> list[str]:
    """The questions a turn searched as ``standalone`` asked: its own words, then each earlier
    question it was searched with.

    >>> _asked_so_far('Who? (about: "T"; Why?)')
    ['Who?', '"T"', 'Why?']
    """
    about = _ABOUT.fullmatch(standalone)
    return [standalone] if about is None else [about["asked"], *about["about"].split("; ")]


#: The paper a follow-up asks of, in no words of its own: "what problem does it solve?".
_ASKED_OF_IT = re.compile(
    r"\b(?:it|its|they|their|this\s+(?:paper|one)|that\s+(?:paper|one)|the\s+paper)\b", re.I
)


def _asked_of(subject: str, searched: str) -> str | None:
    """The last question asked again of ``subject``, where it asked of one paper the answer
    before it cited and named nothing of its own (``searched`` is how it was searched), else
    None. Searched alone, "and SOAP?" had lost what was asked.

    >>> mars = '"MARS: Variance Reduction"; Tell me about MARS'
    >>> _asked_of("SOAP", f"what problem does it solve? (about: {mars})")
    'what problem does SOAP solve?'
    >>> _asked_of("SOAP", f"what are the results? (about: {mars})")
    'what are the results of SOAP?'
    >>> [_asked_of("SOAP", s) for s in ("What is MARS?", 'who wrote them? (about: "A" and "B")')]
    [None, None]
    """
    nested = _ABOUT.fullmatch(searched)
    if nested is None or re.match(r'"[^"]+"(?:;|$)', nested["about"]) is None:
        return None
    asked = nested["asked"].strip()
    pointer = _ASKED_OF_IT.search(asked)
    if pointer is None:
        return f"{asked.rstrip(' ?.!')} of {subject}?"
    name = f"{subject}'s" if pointer.group(0).lower() in ("its", "their") else subject
    return asked[: pointer.start()] + name + asked[pointer.end() :]


def own_words(standalone: str) -> str:
    """What a follow-up asks in its own words, without the earlier turns it is searched with.

    >>> own_words("Where was it published? (about: SOAP; What are its limitations?)")
    'Where was it published?'
    """
    return _asked_so_far(standalone)[0]


def _flat(about: str) -> str:
    """What a follow-up is about, a follow-up's own topic taken in without nesting it or
    repeating a title: each earlier question once, so a constraint one of them added ("Which
    of those are from 2025?") still holds.

    >>> _flat("Swivel: Embeddings; Who wrote it? (about: Swivel: Embeddings; What is Swivel?)")
    'Swivel: Embeddings; Who wrote it?; What is Swivel?'
    """
    parts: list[str] = []
    while (nested := _ABOUT.fullmatch(about)) is not None:
        parts.append(nested["asked"])
        about = nested["about"]
    parts.append(about)
    segments = [segment for part in parts for segment in part.split("; ")]
    return "; ".join(dict.fromkeys(segments))


def similar_request(question: str, history: Sequence[Turn]) -> str | None:
    """For a follow-up asking for papers like the last answer's first ("Are there similar
    papers?"), the search that finds them: 'Papers similar to "<its title>"', which the
    answerer searches without that paper; else None.

    A question with a topic of its own ("Which papers on pruning cite related work?") is
    not one.

    >>> turn = Turn(question="What is Swivel?", answer="a", sources={1: "Swivel: Embeddings"})
    >>> asked = ("Any similar papers?", "Are there other papers on that?", "Who wrote it?",
    ...          "Which papers on layer pruning discuss related work?", "anything similar?",
    ...          "are there other approaches to the same problem?", "any follow-up work?",
    ...          "anything building on it?")
    >>> [similar_request(q, [turn]) for q in asked]  # doctest: +NORMALIZE_WHITESPACE
    ['Papers similar to "Swivel: Embeddings"', 'Papers similar to "Swivel: Embeddings"', None,
     None, 'Papers similar to "Swivel: Embeddings"', 'Papers similar to "Swivel: Embeddings"',
     'Papers similar to "Swivel: Embeddings"', 'Papers similar to "Swivel: Embeddings"']

    What is said of them goes with it, for its constraints to be read:

    >>> similar_request("any newer papers on the same topic?", [turn])
    'Papers similar to "Swivel: Embeddings" (any newer papers)'

    After papers like one, constraints said of similar ones narrow that search:

    >>> listed = Turn(question="anything similar?", answer="b", sources={1: "GloVe"},
    ...               rewritten_query='Papers similar to "Swivel: Embeddings"')
    >>> similar_request("similar ones from 2025?", [turn, listed])
    'Papers similar to "Swivel: Embeddings" (papers from 2025)'
    """
    similar = _SIMILAR.search(question)
    if not history or not history[-1].cited_titles or similar is None:
        return None
    rest = content_words(question[: similar.start()] + question[similar.end() :]) - _ASKING
    said = {w for w in rest if w in _LIKE_CONSTRAINTS or w.isdigit()}
    if len(rest - said) >= 2 and not refers_back(question):
        return None
    like = f'Papers similar to "{history[-1].cited_titles[0]}"'
    if not said:
        return like
    earlier = similar_to(history[-1].rewritten_query)
    if earlier is not None:  # "similar ones from 2025?" after papers like one: those, narrowed
        like = f'Papers similar to "{earlier[0]}"'
    # Constraints said of them go with it, read when it is searched (see similar_to).
    them = " ".join(f"{question[: similar.start()]} papers {question[similar.end() :]}".split())
    return f"{like} ({them.strip(' ?.!')})"


#: A short question about one thing named: "What is the rotation trick?", "tell me about MARS",
#: "How does SimVQ work?", "what's AbstRaL".
_WHAT_IS = re.compile(
    r"^\W*(?:(?:and|so|ok(?:ay)?)\b[\s,]*)?"
    r"(?:what(?:'s|\s+is|\s+are|\s+was)|tell\s+me\s+(?:more\s+)?about|explain|describe"
    r"|how\s+(?:does|do|did)(?=.*\s(?:work|do)\s*[?.!]*\s*$))"
    r"\s+(?:the\s+|an?\s+)?(?P<name>.+?)(?:\s+(?:paper|method|work|do))?\s*[?.!]*\s*$",
    re.IGNORECASE,
)


def named_subject(question: str) -> str | None:
    """What a short question asks about, where it asks what one thing is and points at
    nothing said before; else None. Whether it names a paper the last answer did not cite
    is the collection's to say (``Answerer._said_where``).

    >>> [named_subject(q) for q in ("What is the rotation trick?", "tell me about MARS",
    ...     "How does SimVQ work?", "What is its main result?", "what are the limitations?")]
    ['rotation trick', 'MARS', 'SimVQ', None, 'limitations']
    """
    match = _WHAT_IS.match(question)
    if match is None or refers_back(question):
        return None
    return re.sub(r"\s+work$", "", match.group("name")).strip() or None


def same_authors_request(question: str, history: Sequence[Turn]) -> str | None:
    """For a follow-up asking for other papers by the last answer's first paper's authors
    ("any other papers by the same authors?"), the search that finds them: 'Papers by the
    authors of "<its title>"', which the answerer searches without that paper; else None.
    Searched as words, it had found papers about authorship.

    >>> turn = Turn(question="What is SOAP?", answer="a", sources={1: "SOAP"})
    >>> asked = ("Any other papers by the same authors?", "what else did they write?",
    ...          "anything else by them?", "Who wrote it?", "papers by the same group on GANs",
    ...          "Have the same authors written anything else?")
    >>> [same_authors_request(q, [turn]) for q in asked]  # doctest: +NORMALIZE_WHITESPACE
    ['Papers by the authors of "SOAP"', 'Papers by the authors of "SOAP"',
     'Papers by the authors of "SOAP"', None, None, 'Papers by the authors of "SOAP"']
    >>> {same_authors_request(q, [turn]) for q in ("what else did his coauthors write?",
    ...     "anything else by her co-authors?")}
    {'Papers by the authors of "SOAP"'}
    """
    same = _SAME_AUTHORS.search(question)
    if not history or not history[-1].cited_titles or same is None:
        return None
    rest = content_words(question[: same.start()] + question[same.end() :])
    if rest - _ASKING - _WRITING:
        return None  # a topic of its own: "papers by the same group on GANs"
    return f'Papers by the authors of "{history[-1].cited_titles[0]}"'


#: A question asking for the other papers of one paper's authors, named: "What else have the
#: authors of SOAP written?", "other papers by the authors of the rotation trick paper".
_BY_AUTHORS_OF = re.compile(
    r"\b(?:by|from)\s+(?:the\s+)?(?:same\s+)?(?:authors?|people|team|researchers)\s+(?:of|behind)"
    r"\s+(?P<paper>[^?!]+?)\s*[?.!]*\s*$"
    r"|\b(?:what\s+else|which\s+(?:other\s+)?papers?|anything\s+else)\s+(?:did|have|has)\s+"
    r"the\s+authors?\s+(?:of|behind)\s+(?P<other>.+?)\s+(?:write|written|wrote|publish"
    r"|published)\b"
    r"|\bby\s+the\s+same\s+(?:authors?|people|team|researchers)\s+as\s+(?P<same>[^?!]+?)\s*[?.!]*"
    r"\s*$",
    re.IGNORECASE,
)
#: What names a paper around its title's words: "the rotation trick paper", "the 'SOAP' paper".
_AROUND_NAME = re.compile(
    r"^(?:the\s+)?[\"'\u201c\u2018]?|[\"'\u201d\u2019]?(?:\s+(?:paper|work|method|article))?$",
    re.IGNORECASE,
)


def authors_asked(question: str) -> str | None:
    """The paper whose authors' other papers ``question`` asks for, as it names it, else None.

    >>> [authors_asked(q) for q in ("What else have the authors of SOAP written?",
    ...     "other papers by the authors of the rotation trick paper", "Who wrote SOAP?",
    ...     "Any papers by the same authors as the SOAP paper?")]
    ['SOAP', 'rotation trick', None, 'SOAP']
    """
    match = _BY_AUTHORS_OF.search(question)
    if match is None:
        return None
    return _AROUND_NAME.sub("", match["paper"] or match["other"] or match["same"]).strip() or None


#: Papers asked for like one named: "Find papers similar to SOAP", "anything like the MARS
#: paper?", "What else is similar to SimVQ?".
_LIKE_NAMED = re.compile(
    r"\b(?:papers?|works?|studies|anything|something|others?|ones|what(?:'s|\s+is|\s+else"
    r"(?:\s+is)?)?)\s+(?:else\s+)?(?:(?:is|are)\s+)?(?:similar\s+to|like)\s+"
    r"(?P<paper>[^?!]+?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)


def like_asked(question: str) -> str | None:
    """The paper ``question`` asks for papers like, as it names it, else None.

    >>> [like_asked(q) for q in ("Find papers similar to SOAP", "anything like the MARS paper?",
    ...     "What else is similar to SimVQ?", "anything like it?", "Is SOAP like Adam?")]
    ['SOAP', 'MARS', 'SimVQ', None, None]
    """
    match = _LIKE_NAMED.search(question)
    if match is None:
        return None
    named = _AROUND_NAME.sub("", match["paper"]).strip()
    return None if _IT.fullmatch(named) or named.lower() in {"it", "this", "that", ""} else named


#: Where a paper's name ends and constraints on the papers like it begin: "SOAP but from 2025",
#: "MARS with code", "the rotation trick paper, only from 2025".
_LIKE_CLAUSE = re.compile(
    r"\s*,?\s+(?:(?:but|and)\s+)?(?:only\s+)?(?:(?:that|which)\s+(?:are|were|have|has)\s+)?"
    r"(?:ones?\s+)?(?=(?:from|in|since|before|after|published|posted|with|without|having|at)\b)",
    re.IGNORECASE,
)


def like_clause(named: str) -> tuple[str, str] | None:
    """``named`` (see :func:`like_asked`) split into a paper's name and the constraints said
    after it on the papers like it, else None.

    >>> [like_clause(n) for n in ("SOAP but from 2025", "MARS paper with code", "SOAP")]
    [('SOAP', 'from 2025'), ('MARS', 'with code'), None]
    """
    for match in _LIKE_CLAUSE.finditer(named):
        if match.start() > 0:
            name = _AROUND_NAME.sub("", named[: match.start()]).strip()  # "the Dingo paper"
            return name, named[match.end() :].strip(" ?.!")
    return None


def authors_of(standalone: str) -> str | None:
    """The title a search from :func:`same_authors_request` finds its authors' papers of."""
    match = _AUTHORS_OF.fullmatch(standalone)
    return match["title"] if match else None


def more_request(question: str, history: Sequence[Turn], default: int) -> str | None:
    """For a follow-up asking for more ("give me 2 more", "any others?", ``default`` papers
    when it says no number), the last question asked for the papers after the last one its
    answer cited: "<question> (papers 6 to 7)"; else None.

    >>> turn = Turn(question="Which papers are on X?", answer="a", sources={1: "A", 3: "C"})
    >>> [more_request(q, [turn], 5) for q in ("give me 2 more", "Any others?", "more on SOAP")]
    ['Which papers are on X? (papers 4 to 5)', 'Which papers are on X? (papers 4 to 8)', None]
    >>> paged = Turn(question="more", answer="a", sources={1: "D"},
    ...              rewritten_query="Which papers are on X? (papers 4 to 5)")
    >>> more_request("and three more?", [paged], 5)
    'Which papers are on X? (papers 6 to 8)'
    """
    match = _MORE.match(question)
    if match is None or not history or not history[-1].sources:
        return None
    last = history[-1]
    asked = last.rewritten_query or last.question
    shown = max(last.sources)
    if page := paged(asked):
        asked, _, shown = page
    wanted = number(match["n"]) if match["n"] else default
    return f"{asked} (papers {shown + 1} to {shown + max(wanted, 1)})"


def paged(standalone: str) -> tuple[str, int, int] | None:
    """(the question, the first and the last rank asked for) of a search from
    :func:`more_request`, else None."""
    page = _PAGE.fullmatch(standalone)
    return (page["asked"], int(page["first"]), int(page["last"])) if page else None


def similar_to(standalone: str) -> tuple[str, list[str]] | None:
    """The title a search from :func:`similar_request` finds papers like, and what was said
    of them after ("from 2025", or an order a later turn asked: "Which of those is the
    newest?"), else None.

    >>> similar_to('Papers similar to "Swivel: Embeddings" (from 2024) (newest first)')
    ('Swivel: Embeddings', ['from 2024', 'newest first'])
    """
    match = _SIMILAR_TO.fullmatch(standalone)
    return (match["title"], re.findall(r"\(([^()]+)\)", match["said"])) if match else None
