"""Offline classifiers for every customer turn: intent (built-in and a tenant's own), out of scope,
sentiment and churn risk; heads trained on sentence embeddings and the text's n-grams."""

from agents.classifiers._churn import churn_risk
from agents.classifiers._classifier import (
    INTENT_HEAD,
    SENTIMENT_HEAD,
    SENTIMENTS,
    Classification,
    Classifier,
    ConversationHistory,
    Examples,
    builtin_classifier,
)
from agents.classifiers._heads import OUT_OF_SCOPE, EmbeddingHead, HeadConfig, Prediction
from agents.classifiers._lexicon import lexicon_score
from agents.classifiers._rules import asks_for_human
from agents.classifiers._tenant import (
    ClassifierOptions,
    CrossValidation,
    ExampleCounts,
    LabelledExample,
    LabelledFileError,
    classifier_options,
    cross_validate,
    parse_labelled_file,
    replace_tenant_examples,
    tenant_classifier,
    tenant_examples,
)
from knowledge.language import detect_language

__all__ = [
    "INTENT_HEAD",
    "OUT_OF_SCOPE",
    "SENTIMENTS",
    "SENTIMENT_HEAD",
    "Classification",
    "Classifier",
    "ClassifierOptions",
    "ConversationHistory",
    "CrossValidation",
    "EmbeddingHead",
    "ExampleCounts",
    "Examples",
    "HeadConfig",
    "LabelledExample",
    "LabelledFileError",
    "Prediction",
    "asks_for_human",
    "builtin_classifier",
    "churn_risk",
    "classifier_options",
    "cross_validate",
    "detect_language",
    "lexicon_score",
    "parse_labelled_file",
    "replace_tenant_examples",
    "tenant_classifier",
    "tenant_examples",
]
