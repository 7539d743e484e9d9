"""What the offline classifiers tell about a customer's message: intent, scope, sentiment, churn risk.

The messages below are written for these tests; none is a copy of the training examples in
``agents/classifiers/data``.
"""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agents.classifiers import (
    Classification,
    Classifier,
    ClassifierOptions,
    ConversationHistory,
    LabelledExample,
    LabelledFileError,
    builtin_classifier,
    churn_risk,
    detect_language,
    parse_labelled_file,
    replace_tenant_examples,
    tenant_classifier,
)
from agents.classifiers.models import ClassifierExample
from conversations.services import Services
from tests.conftest import MakeTenant, run_cli

DATA = Path(__file__).parents[2] / "agents" / "classifiers" / "data"


@pytest.fixture(scope="module")
def classifier(services: Services) -> Classifier:
    return builtin_classifier(services.embedder)


def classify(
    services: Services, classifier: Classifier, text: str, history: ConversationHistory | None = None
) -> Classification:
    [vector] = services.embedder.encode([text])
    return classifier.classify(text, vector, history or ConversationHistory())


SUPPORT_MESSAGES = [
    # Portuguese, as customers write it
    ("boa noite!", "greeting"),
    ("muito obrigado, resolveu meu problema", "thanks"),
    ("beleza, até a próxima", "goodbye"),
    ("a caneca veio trincada", "complaint"),
    ("minha planta chegou murcha", "complaint"),
    ("quero cancelar a assinatura do clube do vinho", "cancel"),
    ("fui cobrado em duplicidade no cartão de crédito", "billing"),
    ("quando vou receber o estorno da compra?", "refund"),
    ("meu pedido 7781 ainda não saiu do centro de distribuição", "order_status"),
    ("vcs entregam em porto alegre? qual o frete?", "shipping"),
    ("o aplicativo trava quando abro o carrinho", "technical_issue"),
    ("não consigo redefinir minha senha, o link expirou", "account"),
    ("essa panela pode ir no forno?", "product_question"),
    # English
    ("good evening!", "greeting"),
    ("thanks so much, that sorted it", "thanks"),
    ("the mug I got is cracked", "complaint"),
    ("please cancel my wine club subscription", "cancel"),
    ("I got charged twice on my credit card", "billing"),
    ("when do I get my money back for the return?", "refund"),
    ("my order 7781 still hasn't left the warehouse", "order_status"),
    ("do you deliver to Boston and how much is it?", "shipping"),
    ("the app freezes when I open my cart", "technical_issue"),
    ("the password reset link expired and I can't sign in", "account"),
    ("is this pan oven safe?", "product_question"),
    # Spanish
    ("¡buenas noches!", "greeting"),
    ("la taza vino rajada", "complaint"),
    ("quiero cancelar la suscripción del club de vinos", "cancel"),
    ("me cobraron dos veces en la tarjeta de crédito", "billing"),
    ("¿cuándo me devuelven el dinero de la devolución?", "refund"),
    ("mi pedido 7781 todavía no sale del almacén", "order_status"),
    ("¿hacen envíos a Valencia? ¿cuánto cuesta?", "shipping"),
    ("la aplicación se congela cuando abro el carrito", "technical_issue"),
    ("¿esta sartén se puede meter al horno?", "product_question"),
]


def test_the_messages_below_are_not_copies_of_the_training_examples() -> None:
    trained = {
        json.loads(line)["text"].casefold()
        for name in ("intents.jsonl", "sentiment.jsonl")
        for line in (DATA / name).read_text().splitlines()
    }
    written = {text.casefold() for text, _ in SUPPORT_MESSAGES} | {
        t.casefold() for t in OUT_OF_SCOPE_MESSAGES
    }
    assert not written & trained


@pytest.mark.parametrize(("text", "intent"), SUPPORT_MESSAGES)
def test_support_messages_in_portuguese_english_and_spanish_get_their_intent(
    services: Services, classifier: Classifier, text: str, intent: str
) -> None:
    result = classify(services, classifier, text)
    assert result.intent == intent
    assert not result.out_of_scope


def test_a_wilted_plant_is_a_complaint_not_a_question_about_the_order(
    services: Services, classifier: Classifier
) -> None:
    result = classify(services, classifier, "minha planta chegou murcha")
    assert result.intent == "complaint"
    assert result.sentiment == "negative"


ASKING_FOR_A_PERSON = [
    "quero falar com um atendente",
    "Quero falar com um humano!",
    "posso falar com uma pessoa?",
    "me passa pra alguém de verdade por favor",
    "chama um operador",
    "preciso conversar com o gerente",
    "tem algum atendente disponível?",
    "atendente!!",
    "I want to talk to a human",
    "Can I speak to someone, please?",
    "get me a real person",
    "connect me with a live agent",
    "I need a representative",
    "Quiero hablar con un agente",
    "¿Puedo hablar con una persona?",
    "necesito un asesor",
]

NOT_ASKING = [
    "qual o prazo de entrega?",
    "How do I reset my password?",
    "I am a real estate agent, can I buy in bulk?",
    "a pessoa que recebeu o pedido foi o porteiro",
    "preciso de uma barraca para 4 pessoas",
    "¿Cuánto cuesta el envío?",
]


@pytest.mark.parametrize("text", ASKING_FOR_A_PERSON)
def test_a_request_for_a_person_is_recognised_however_phrased(
    services: Services, classifier: Classifier, text: str
) -> None:
    result = classify(services, classifier, text)
    assert result.intent == "human_agent"
    assert result.intent_score == 1.0 and result.intent_rule == "asks_for_human"


@pytest.mark.parametrize("text", NOT_ASKING)
def test_messages_that_mention_people_are_not_requests_for_one(
    services: Services, classifier: Classifier, text: str
) -> None:
    assert classify(services, classifier, text).intent != "human_agent"


OUT_OF_SCOPE_MESSAGES = [
    "vai fazer sol no domingo em Florianópolis?",
    "me ensina a fazer um pudim de leite",
    "who won the champions league final?",
    "write a limerick about my cat",
    "¿quién va a ganar la liga este año?",
    "crie uma função em javascript que ordena uma lista",
]


@pytest.mark.parametrize("text", OUT_OF_SCOPE_MESSAGES)
def test_a_question_the_business_does_not_handle_is_out_of_scope(
    services: Services, classifier: Classifier, text: str
) -> None:
    result = classify(services, classifier, text)
    assert result.out_of_scope
    assert result.intent == "out_of_scope"


def test_questions_the_knowledge_base_may_answer_are_in_scope(
    services: Services, classifier: Classifier
) -> None:
    for text in (
        "qual a política de trocas?",
        "does the blender come with a warranty?",
        "¿tienen esta mochila en negro?",
    ):
        result = classify(services, classifier, text)
        assert not result.out_of_scope, text


@pytest.mark.parametrize(
    "text",
    [
        "ESSA LOJA É UMA VERGONHA, PÉSSIMO ATENDIMENTO!!!",
        "this is the worst service ever, absolutely unacceptable!!",
        "estou furioso, vocês são uma palhaçada",
        "¡QUÉ ESTAFA, SON UNOS LADRONES!",
    ],
)
def test_very_angry_messages_score_at_the_bottom(
    services: Services, classifier: Classifier, text: str
) -> None:
    result = classify(services, classifier, text)
    assert result.sentiment == "negative"
    assert result.sentiment_score <= -0.75


def test_a_calm_complaint_is_negative_without_reaching_the_escalation_threshold(
    services: Services, classifier: Classifier
) -> None:
    result = classify(services, classifier, "meu pedido está atrasado, podem verificar?")
    assert result.sentiment == "negative"
    assert -0.7 < result.sentiment_score < -0.1


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("adorei, entrega rápida e produto excelente", "positive"),
        ("the blanket is so soft, loved it", "positive"),
        ("me encantó el regalo, gracias", "positive"),
        ("qual o horário de funcionamento da loja?", "neutral"),
        ("what sizes does this jacket come in?", "neutral"),
        ("o produto não é bom", "negative"),
        ("la chaqueta llegó sucia y rota", "negative"),
    ],
)
def test_sentiment(services: Services, classifier: Classifier, text: str, sentiment: str) -> None:
    result = classify(services, classifier, text)
    assert result.sentiment == sentiment
    low, high = {"negative": (-1.0, -0.1), "neutral": (-0.4, 0.4), "positive": (0.1, 1.0)}[sentiment]
    assert low <= result.sentiment_score <= high


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Qual o prazo de entrega do meu pedido?", "pt"),
        ("Where is my order?", "en"),
        ("¿Dónde está mi pedido?", "es"),
    ],
)
def test_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_the_decision_record_gets_every_field_as_plain_json(
    services: Services, classifier: Classifier
) -> None:
    record = classify(
        services, classifier, "quero cancelar", ConversationHistory(repeat_contacts=1)
    ).as_dict()
    assert json.loads(json.dumps(record)) == record
    assert set(record) >= {
        "language",
        "sentiment",
        "sentiment_score",
        "intent",
        "intent_score",
        "out_of_scope",
        "churn_risk",
        "churn_reasons",
    }


def test_churn_risk_rises_with_cancelling_repeat_contacts_and_a_falling_mood(
    services: Services, classifier: Classifier
) -> None:
    calm = classify(services, classifier, "qual o prazo de entrega?")
    leaving = classify(
        services,
        classifier,
        "quero cancelar tudo, péssimo serviço",
        ConversationHistory(sentiments=[0.2, -0.3, -0.6], repeat_contacts=2, past_escalations=1),
    )
    assert leaving.intent == "cancel"
    assert leaving.churn_risk > calm.churn_risk + 0.5
    assert leaving.churn_reasons == [
        "asked to cancel",
        "negative sentiment",
        "sentiment falling over 4 turns",
        "3rd contact in 30 days",
        "escalated before",
    ]
    assert calm.churn_reasons == [] and calm.churn_risk < 0.1


def test_churn_risk_grows_with_each_signal_and_stays_within_0_and_1() -> None:
    alone, _ = churn_risk("order_status", [0.0], 0, 0)
    again, reasons = churn_risk("order_status", [0.0], 1, 0)
    assert reasons == ["2nd contact in 30 days"]
    often, _ = churn_risk("order_status", [0.0], 4, 0)
    angry, reasons = churn_risk("complaint", [-0.2, -0.5, -0.9], 4, 3)
    assert alone < again < often < angry <= 1.0
    assert reasons == [
        "complained",
        "negative sentiment",
        "sentiment falling over 3 turns",
        "5th contact in 30 days",
        "escalated 3 times before",
    ]


def test_a_mood_that_stays_bad_without_falling_is_named_too() -> None:
    _, reasons = churn_risk("order_status", [-0.6, -0.5, -0.4, -0.5], 0, 0)
    assert reasons == ["negative sentiment", "negative across the conversation"]


# A tenant's own intents, learned from its labelled file

WARRANTY_CLAIMS = [
    "o liquidificador parou depois de 8 meses, quero acionar a garantia",
    "minha fritadeira queimou dentro da garantia",
    "quero usar a garantia da torradeira",
    "a cafeteira tem garantia de 1 ano e estragou, como aciono?",
    "garantia: meu ventilador parou de girar",
    "my kettle broke within the warranty period, how do I claim it?",
    "I'd like to make a warranty claim for my toaster",
    "mi licuadora se dañó y está en garantía",
    "quiero hacer válida la garantía de la plancha",
    "acionar garantia do aspirador",
]


STORE_QUESTIONS = [
    "onde fica a loja de vocês?",
    "qual o endereço da loja física?",
    "vocês têm loja no shopping?",
    "qual loja fica mais perto do centro?",
    "tem loja em campinas?",
    "onde posso ver os produtos pessoalmente?",
    "qual o endereço de vocês?",
    "a loja da paulista ainda existe?",
    "vocês tem loja em curitiba?",
    "como chego na loja?",
]


def labelled_file(tmp_path: Path, rows: list[dict[str, str]], name: str = "examples.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n")
    return path


async def test_a_tenant_intent_learned_from_its_file_changes_that_tenant_only(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    shop, other = await make_tenant(with_kb=False), await make_tenant(with_kb=False)
    rows = parse_labelled_file(
        labelled_file(
            tmp_path,
            [{"text": text, "intent": "warranty_claim", "sentiment": "negative"} for text in WARRANTY_CLAIMS]
            + [{"text": "quero o reembolso do frete", "intent": "refund"}],
        )
    )
    async with services.database.sessionmaker.begin() as session:
        counts = await replace_tenant_examples(session, shop.id, rows)
    assert counts.intents == {"warranty_claim": 10, "refund": 1}
    assert counts.sentiments == {"negative": 10}

    asked = "a batedeira deu defeito com 6 meses de uso, ainda está na garantia"
    [vector] = await services.embedder.aencode([asked])
    async with services.database.sessionmaker() as session:
        trained = await tenant_classifier(session, shop.id, services.embedder)
        untouched = await tenant_classifier(session, other.id, services.embedder)
        again = await tenant_classifier(session, shop.id, services.embedder)
    assert again is trained, "retrained only when the tenant's examples change"
    assert "warranty_claim" in trained.labels and "warranty_claim" not in untouched.labels
    assert trained.classify(asked, vector, ConversationHistory()).intent == "warranty_claim"
    assert untouched.classify(asked, vector, ConversationHistory()).intent != "warranty_claim"

    async with services.database.sessionmaker.begin() as session:
        await replace_tenant_examples(session, shop.id, [LabelledExample("oi, tudo bem?", "greeting")])
    async with services.database.sessionmaker() as session:
        retrained = await tenant_classifier(session, shop.id, services.embedder)
    assert retrained is not trained and "warranty_claim" not in retrained.labels


async def test_a_tenant_can_learn_its_own_intents_alone_with_its_own_out_of_scope_threshold(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    shop = await make_tenant(with_kb=False)
    options = ClassifierOptions(builtin_intents=False, out_of_scope_below=0.7)
    rows = parse_labelled_file(
        labelled_file(
            tmp_path,
            [{"text": text, "intent": "warranty_claim"} for text in WARRANTY_CLAIMS]
            + [{"text": text, "intent": "store_location"} for text in STORE_QUESTIONS],
        ),
        options,
    )
    async with services.database.sessionmaker.begin() as session:
        await replace_tenant_examples(session, shop.id, rows)
    asked = {
        "warranty": "a batedeira deu defeito com 6 meses de uso, ainda está na garantia",
        "person": "quero falar com um atendente",
        "unrelated": "qual é a capital da Austrália?",
    }
    vectors = dict(zip(asked, await services.embedder.aencode(list(asked.values())), strict=True))
    async with services.database.sessionmaker() as session:
        own = await tenant_classifier(session, shop.id, services.embedder, options)
        with_builtin = await tenant_classifier(session, shop.id, services.embedder)

    def intent(classifier: Classifier, key: str) -> str:
        return classifier.classify(asked[key], vectors[key], ConversationHistory()).intent

    assert own.labels == {"warranty_claim", "store_location", "human_agent", "out_of_scope"}
    assert "greeting" in with_builtin.labels, "the same examples with the built-in intents"
    assert intent(own, "warranty") == "warranty_claim"
    assert intent(own, "person") == "human_agent", "a request for a person is always recognised"
    assert intent(own, "unrelated") == "out_of_scope"


def test_learning_without_the_built_in_examples_needs_two_labels_in_the_file(tmp_path: Path) -> None:
    one_intent = labelled_file(tmp_path, [{"text": t, "intent": "warranty_claim"} for t in WARRANTY_CLAIMS])
    with pytest.raises(LabelledFileError) as raised:
        parse_labelled_file(one_intent, ClassifierOptions(builtin_intents=False))
    assert raised.value.column == "intent" and "two intents" in raised.value.detail
    with pytest.raises(LabelledFileError) as raised:
        parse_labelled_file(one_intent, ClassifierOptions(builtin_sentiments=False))
    assert raised.value.column == "sentiment"
    assert parse_labelled_file(one_intent), "with the built-in examples one intent is enough"


@pytest.mark.parametrize(
    ("name", "content", "line", "field"),
    [
        ("bad.csv", "text,intent\nonde fica a loja?,store_hours\n,store_hours\n", 3, "text"),
        ("bad.csv", "text,intent,sentiment\nfoi ótimo,praise,happy\n", 2, "sentiment"),
        ("bad.csv", "text,label\noi,greeting\n", 1, "intent"),
        (
            "bad.jsonl",
            '{"text": "oi", "intent": "greeting"}\n{"text": "tchau", "intent": "Bye Bye"}\n',
            2,
            "intent",
        ),
        ("bad.jsonl", '{"text": "oi", "intent": "greeting"}\n\n{"text": "oi"\n', 3, "json"),
        ("bad.jsonl", '{"text": "oi", "intent": "greeting", "lang": "pt"}\n', 1, "lang"),
    ],
)
async def test_a_bad_file_names_the_line_and_field_and_stores_nothing(
    services: Services,
    make_tenant: MakeTenant,
    tmp_path: Path,
    name: str,
    content: str,
    line: int,
    field: str,
) -> None:
    tenant = await make_tenant(with_kb=False)
    async with services.database.sessionmaker.begin() as session:
        await replace_tenant_examples(session, tenant.id, [LabelledExample("oi", "greeting")])
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(LabelledFileError) as raised:
        parse_labelled_file(path)
    assert (raised.value.line, raised.value.column) == (line, field)
    assert f"{name} line {line}, {field}" in raised.value.detail
    async with services.database.sessionmaker() as session:
        kept = await session.scalar(
            select(func.count())
            .select_from(ClassifierExample)
            .where(ClassifierExample.tenant_id == tenant.id)
        )
    assert kept == 1, "the examples stored before are untouched"


def test_a_csv_file_with_quoted_commas_and_an_optional_sentiment(tmp_path: Path) -> None:
    path = tmp_path / "examples.csv"
    path.write_text(
        'text,intent,sentiment\n"oi, tudo bem?",greeting,\nquero acionar a garantia,warranty_claim,negative\n'
    )
    assert parse_labelled_file(path) == [
        LabelledExample("oi, tudo bem?", "greeting", None),
        LabelledExample("quero acionar a garantia", "warranty_claim", "negative"),
    ]


# The command line


def test_classify_train_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    slug = f"shop-{uuid.uuid4().hex[:6]}"
    assert run_cli(data, "tenant", "create", slug).returncode == 0
    path = tmp_path / "examples.csv"
    warranty = [
        *(text for text in WARRANTY_CLAIMS if detect_language(text) == "pt"),
        "meu secador parou, ainda está na garantia",
        "como aciono a garantia do micro-ondas?",
        "o fogão tem 3 meses e quebrou, quero a garantia",
        "preciso acionar a garantia da geladeira",
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "intent", "sentiment"])
        writer.writerows([text, "warranty_claim", "negative"] for text in warranty)
        writer.writerows([text, "store_location", ""] for text in STORE_QUESTIONS)
    trained = run_cli(data, "classify", "train", "--tenant", slug, str(path), "--json")
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert report["intents"] == {"store_location": 10, "warranty_claim": 10}
    assert report["sentiments"] == {"negative": 10}
    assert report["cv_folds"] == 5 and report["cv_accuracy"] >= 0.6
    assert set(report["cv_accuracy_per_intent"]) == {"store_location", "warranty_claim"}

    shown = run_cli(data, "classify", "train", "--tenant", slug, str(path))
    assert shown.returncode == 0, shown.stderr
    assert "warranty_claim" in shown.stdout and "cross-validated intent accuracy" in shown.stdout

    unknown = run_cli(data, "classify", "train", "--tenant", "nobody", str(path))
    assert unknown.returncode == 1
    assert "tenant 'nobody' not found" in unknown.stderr

    path.write_text("text,intent\nonde fica a loja?,\n")
    bad = run_cli(data, "classify", "train", "--tenant", slug, str(path))
    assert bad.returncode == 1
    assert "examples.csv line 2, intent: is empty" in bad.stderr
