"""The bundled call classifier and its litellm route (``local/callaudit-classifier``).

Tests the shipped model file (accuracy on transcripts phrased differently from its training corpus, JSON
round trip, no-conversation calls), the litellm custom provider (sync and async, the contract's JSON, usage)
and the training recipe on a small corpus in a temporary folder.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
import pytest  # noqa: E402

from inference.call_classifier import CallClassifier, FitConfig, LabelledCall, normalize  # noqa: E402
from inference.llm_schema import RESPONSE_SCHEMA, Classification, build_messages  # noqa: E402
from inference.local_llm import (  # noqa: E402
    DEFAULT_MODEL_PATH,
    MODEL,
    MODEL_ENV,
    load_model,
    register_local_provider,
)
from training.classifier_corpus import generate_corpus  # noqa: E402
from training.classifier_train import (  # noqa: E402
    HELDOUT_SHARE,
    THRESHOLD_GRID,
    asr_like,
    calibrate_trust_threshold,
    demo_calls,
    second_set,
    split,
    train,
)

VOICEMAIL = (
    "Bonjour, vous êtes bien sur la messagerie de [PERSON_1], je ne suis pas disponible, laissez un message "
    "après le bip. Bonjour, ici [PERSON_2] de Atlas Télécom, je vous rappelle pour votre installation."
)
DIALOGUE = (
    "client: allô\nagent: bonjour ici [PERSON_1] technicien de atlas télécom pour votre commande "
    "[ORDER_ID_1]\nclient: non merci je ne veux plus de l'installation j'annule\nagent: très bien au revoir"
)
SAMPLES = [VOICEMAIL, DIALOGUE, "", "Je suis en voyage, il n'y a personne chez moi.", "venez jeudi plutôt"]
KEYS = set(RESPONSE_SCHEMA["schema"]["required"])
# the offline route also answers the probability of its call type (not asked of LLM routes)
LOCAL_KEYS = KEYS | {"call_type_confidence"}


@pytest.fixture(scope="module")
def model() -> CallClassifier:
    return CallClassifier.load(DEFAULT_MODEL_PATH)


def _accuracy(model: CallClassifier, calls: list[LabelledCall], head: str) -> float:
    return sum(getattr(model.predict(c.text), head) == c.label(head) for c in calls) / len(calls)


def test_shipped_file_is_small_json() -> None:
    data = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    assert data["format"].startswith("callaudit-call-classifier/")
    assert DEFAULT_MODEL_PATH.stat().st_size < 3_000_000
    metrics = json.loads((DEFAULT_MODEL_PATH.parent / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["sets"]["second_set"]["call_type"]["accuracy"] >= 0.90


def test_second_phrasing_set(model: CallClassifier) -> None:
    calls = second_set()
    assert len(calls) >= 200
    assert _accuracy(model, calls, "call_type") >= 0.90
    assert _accuracy(model, asr_like(calls), "call_type") >= 0.90
    assert _accuracy(model, calls, "behavior") >= 0.90


def test_demo_generator_phrasing(model: CallClassifier) -> None:
    calls = demo_calls(300)
    assert _accuracy(model, calls, "call_type") >= 0.90
    assert _accuracy(model, asr_like(calls), "call_type") >= 0.90
    assert _accuracy(model, calls, "behavior") >= 0.90


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        VOICEMAIL,
        "vous êtes bien sur la messagerie de [PERSON_1] laissez un message après le bip",
        "Le numéro que vous avez demandé n'est pas attribué.",
    ],
)
def test_no_conversation(model: CallClassifier, text: str) -> None:
    result = model.predict(text)
    assert result.call_type == 0
    assert result.action_items == ["Rappeler le client à un autre moment."]


def test_prediction_is_the_contract(model: CallClassifier) -> None:
    detailed = model.predict_detailed(DIALOGUE)
    assert detailed.classification.call_type == 1
    assert "refuse" in detailed.classification.summary
    assert set(detailed.confidence) == {"call_type", "behavior", "sentiment"}
    assert all(0.0 <= p <= 1.0 for p in detailed.confidence.values())
    assert (
        Classification.model_validate_json(detailed.classification.model_dump_json())
        == detailed.classification
    )
    assert normalize("Client : Ça marche [PHONE_1] 06") == "ca marche piiphone num"


def test_json_round_trip(model: CallClassifier, tmp_path: Path) -> None:
    again = CallClassifier.load(model.save(tmp_path / "copy.json"))
    for text in SAMPLES:
        assert again.predict(text) == model.predict(text)
        assert again.probabilities(text) == model.probabilities(text)


def test_litellm_completion() -> None:
    register_local_provider()
    register_local_provider()
    assert sum(e["provider"] == "local" for e in litellm.custom_provider_map) == 1
    response = litellm.completion(
        model=MODEL,
        messages=build_messages(DIALOGUE),
        response_format={"type": "json_schema", "json_schema": RESPONSE_SCHEMA},
        temperature=0,
        timeout=10,
        max_tokens=300,
    )
    content = response.choices[0].message.content
    assert set(json.loads(content)) == LOCAL_KEYS
    parsed = Classification.model_validate_json(content)
    assert parsed.call_type == 1
    assert parsed.call_type_confidence == load_model().predict_detailed(DIALOGUE).confidence["call_type"]
    assert response.model == MODEL
    assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_litellm_acompletion() -> None:
    register_local_provider()
    response = asyncio.run(
        litellm.acompletion(model=MODEL, messages=build_messages(VOICEMAIL), temperature=0.2)
    )
    content = response.choices[0].message.content
    assert set(json.loads(content)) == LOCAL_KEYS
    assert Classification.model_validate_json(content).call_type == 0
    assert response.usage.prompt_tokens > 0


def test_recipe_small_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = FitConfig(word_max_features=1500, char_max_features=2500, max_iter=300)
    result = train(tmp_path, size=300, seed=7, config=config, demo_size=40, log=lambda _: None)
    assert result.model_path.exists() and result.metrics_path.exists()
    metrics = json.loads(result.metrics_path.read_text(encoding="utf-8"))
    assert metrics["corpus_size"] == 300 and metrics["seed"] == 7
    assert {"heldout_training_phrasing", "second_set", "demo_generator"} <= set(metrics["sets"])
    assert metrics["trust"]["threshold"] in THRESHOLD_GRID and metrics["trust"]["heldout_size"] == 45
    small = CallClassifier.load(result.model_path)
    again = CallClassifier.load(small.save(tmp_path / "again.json"))
    assert [again.predict(t) for t in SAMPLES] == [small.predict(t) for t in SAMPLES]
    monkeypatch.setenv(MODEL_ENV, str(result.model_path))
    assert load_model().meta["corpus_size"] == 300


def test_call_type_confidence_is_not_asked_of_llm_routes() -> None:
    """Only the offline classifier gives a probability: the schema and prompt of LLM routes do not ask it."""
    assert "call_type_confidence" not in RESPONSE_SCHEMA["schema"]["properties"]
    answer = {"call_type": 1, "behavior": 1, "sentiment": "neutral", "summary": "Refus.", "action_items": []}
    assert Classification.model_validate(answer).call_type_confidence is None
    with pytest.raises(ValueError):
        Classification.model_validate({**answer, "call_type_confidence": 1.2})


def test_trust_threshold_is_the_lowest_that_keeps_trusted_call_types_right(model: CallClassifier) -> None:
    """The calibration on held-out training calls: at the chosen threshold every noise level reaches the
    precision target, and one grid step lower some level does not (the calibration is not vacuous: the
    noisiest levels make errors with a probability above the grid's first value)."""
    corpus = generate_corpus(1400, seed=11)
    _, heldout = split(corpus, HELDOUT_SHARE, 11)
    levels = (0.45, 0.6, 0.75)
    trust = calibrate_trust_threshold(model, heldout, seed=11, levels=levels, precision=0.99)
    chosen = trust["threshold"]
    assert chosen in THRESHOLD_GRID and chosen > THRESHOLD_GRID[0]
    assert all(level["trusted_precision"] >= 0.99 for level in trust["levels"].values())
    assert all(level["trusted_share"] < 1.0 for level in trust["levels"].values() if level["accuracy"] < 1)
    curve = trust["min_precision_by_threshold"]
    assert curve[f"{chosen:.2f}"] >= 0.99 > curve[f"{chosen - 0.01:.2f}"]


def test_settings_threshold_is_the_shipped_models_calibrated_one() -> None:
    """A retrained classifier brings its own calibration: the default setting and the dbt var follow it."""
    import yaml

    from flows.config import REPO_ROOT, Settings

    metrics = json.loads((DEFAULT_MODEL_PATH.parent / "metrics.json").read_text(encoding="utf-8"))
    threshold = metrics["trust"]["threshold"]
    assert metrics["trust"]["precision_target"] >= 0.99
    assert Settings.model_fields["classification_min_confidence"].default == threshold
    project = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["vars"]["classification_min_confidence"] == threshold
