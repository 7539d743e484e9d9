"""Small language helpers shared by search and the classifiers: normalising and stopwords."""

from __future__ import annotations

import re
import unicodedata

STOPWORDS = frozenset(
    """
    a o e é de da do das dos em no na nos nas um uma uns umas para pra por com sem que se ao aos à às
    como mais mas ou eu meu minha meus minhas me te você voce vocês seu sua seus suas ele ela eles elas
    isso isto esse essa este esta qual quais quando onde porque ser ter tem tenho está esta estou foi
    posso pode podem fazer faço quero gostaria preciso sobre the an and or of to in on at for with by
    is are was were be been am do does did i my me you your we our it its this that these those what
    which who how when where why can could would should will have has had not no yes please there
    el la los las un una unos unas y del al es son mi mis tu su sus lo le les con por para como qué
    cuál cuando dónde hay puedo quiero necesito
    """.split()
)

_WORD = re.compile(r"\w+", re.UNICODE)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lowercase without accents, so 'Devolução' and 'devolucao' meet."""
    return strip_accents(text).lower()


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    """Words that carry meaning: no stopwords, no single letters."""
    return [w for w in words(text) if len(w) > 1 and w not in STOPWORDS and strip_accents(w) not in STOPWORDS]


def stem_prefix(word: str) -> str:
    """A crude stem that works across Portuguese, English and Spanish: the word's first letters.

    'devolver', 'devolução' and 'devoluções' all start with 'devol'; prefix search finds each from any.
    """
    return word if len(word) <= 4 else word[: max(4, len(word) - 3)]


def term_coverage(query: str, passage: str) -> float:
    """Share of the query's content words (by stem, without accents) that the passage contains."""
    terms = {stem_prefix(strip_accents(w)) for w in content_words(query)}
    if not terms:
        return 0.0
    passage_words = {strip_accents(w) for w in words(passage)}
    found = sum(1 for t in terms if any(w.startswith(t) for w in passage_words))
    return found / len(terms)
