"""First classifiers: rules and lexicons in Portuguese, English and Spanish (issue #5 trains heads)."""

from agents.classifiers._classify import Classification, classify
from knowledge.language import detect_language

__all__ = ["Classification", "classify", "detect_language"]
