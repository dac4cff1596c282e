"""The character LM of the bundled speech model (:mod:`training.asr_lm`) and the beam search that uses it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from training.asr_lm import BOS, EOS, count_ngrams, encode, kneser_ney, write_arpa

LINES = [
    "bonjour madame je vous appelle pour votre rendez-vous",
    "le technicien passera demain matin",
    "je ne suis pas disponible demain",
    "bonjour monsieur c'est le service client",
    "votre ligne sera installée mardi",
]


def _probability(logs, backoffs, gram: str) -> float:
    """P(last | rest) by ARPA back-off: the n-gram's own probability, else the context's back-off weight
    times the probability given a shorter context."""
    n = len(gram)
    if gram in logs[n]:
        return 10 ** logs[n][gram]
    return 10 ** backoffs.get(gram[:-1], 0.0) * _probability(logs, backoffs, gram[1:])


@pytest.mark.parametrize("order,min_count", [(3, 1), (4, 2)])
def test_every_context_is_a_probability_distribution(order: int, min_count: int) -> None:
    logs, backoffs = kneser_ney(count_ngrams(LINES, order), order, min_count)
    vocabulary = [g for g in logs[1] if g != BOS]
    contexts = {""} | {g for n in range(1, order) for g in logs[n] if g != EOS}
    assert len(contexts) > 50
    for context in contexts:
        total = sum(_probability(logs, backoffs, context + w) for w in vocabulary)
        assert math.isclose(total, 1.0, rel_tol=1e-6), (context, total)
    # every kept n-gram's context is in the file (an ARPA reader walks from it)
    for n in range(2, order + 1):
        assert all(g[:-1] in logs[n - 1] or g[:-1] == BOS for g in logs[n])


def test_a_likely_sentence_scores_above_a_scrambled_one() -> None:
    logs, backoffs = kneser_ney(count_ngrams(LINES, 5), 5)

    def score(text: str) -> float:
        s = BOS + encode(text) + EOS
        return sum(
            math.log10(_probability(logs, backoffs, s[max(0, i - 4) : i + 1])) for i in range(1, len(s))
        )

    assert score("le technicien passera mardi") > score("el tceinhcien apsesra madri")


def test_the_arpa_file_loads_in_nemos_beam_search_lm(tmp_path: Path) -> None:
    from nemo.collections.asr.parts.submodules.ngram_lm.ngram_lm_batched import NGramGPULanguageModel

    from inference.asr_model import LABELS

    logs, backoffs = kneser_ney(count_ngrams(LINES, 4), 4)
    path = tmp_path / "lm.arpa"
    write_arpa(logs, backoffs, path)
    assert path.read_text(encoding="utf-8").startswith("\\data\\\n")
    lm = NGramGPULanguageModel.from_file(path, vocab_size=len(LABELS))
    assert lm.max_order == 4 and lm.vocab_size == len(LABELS)


def test_words_are_timed_from_the_frame_of_each_character() -> None:
    from inference.asr import _words_from_frames

    words = _words_from_frames(
        "le  bip", [0, 1, 2, 3, 10, 11, 13], frame_s=0.04, offset_s=10.0, chunk_len_s=1.0
    )
    assert words == [
        pytest.approx((10.0, 10.08, "le")),
        (pytest.approx(10.4), pytest.approx(10.56), "bip"),
    ]
    assert _words_from_frames("le bip", [0, 1, 2], 0.04, 0.0, 1.0) is None  # text and frames do not pair


def test_the_bundled_model_decodes_with_the_bundled_lm_and_no_other() -> None:
    from flows.config import Settings
    from flows.transcribe import asr_config
    from inference.asr_model import BUNDLED_LM, BUNDLED_MODEL

    assert BUNDLED_LM.is_file() and BUNDLED_LM.stat().st_size <= 60 * 2**20
    assert asr_config(Settings()).lm == str(BUNDLED_LM)
    assert asr_config(Settings(asr_lm="none")).lm is None
    assert asr_config(Settings(asr_model="stt_fr_conformer_ctc_large")).lm is None  # other tokens
    assert asr_config(Settings(asr_model=str(BUNDLED_MODEL), asr_lm="/x/lm.arpa")).lm == "/x/lm.arpa"


def test_the_bundled_model_with_its_lm_gives_timed_words_and_a_model_id_of_its_own() -> None:
    """NeMo's batched beam search returns one encoder frame per character, not word offsets: the transcriber
    times each word from them, and the LM (file and weights) joins the transcripts' model id."""
    import torch

    from inference.asr import AsrConfig, Transcriber, _hyp_text, _hyp_words, model_id_for
    from inference.asr_model import BUNDLED_LM, BUNDLED_MODEL
    from training.asr_train import espeak

    audio = espeak("bonjour madame, le technicien passera demain matin entre neuf heures et midi", "fr")
    beam = Transcriber(AsrConfig(model=str(BUNDLED_MODEL), lm=str(BUNDLED_LM)))
    greedy_id = model_id_for(AsrConfig(model=str(BUNDLED_MODEL)))
    assert beam.model_id.startswith(f"{greedy_id}+{BUNDLED_LM.name}@") and beam.model_id.endswith(
        "-a0.7-w1-b32"
    )
    with torch.inference_mode():
        [hyp] = beam.model.transcribe([audio], batch_size=1, return_hypotheses=True, verbose=False)
    length_s = len(audio) / 16000
    words = _hyp_words(hyp, 2.0, length_s, beam._frame_s)
    assert words, _hyp_text(hyp)
    assert " ".join(w for _, _, w in words) == " ".join(_hyp_text(hyp).split())
    starts = [s for s, _, _ in words]
    assert starts == sorted(starts) and all(2.0 <= s <= e <= 2.0 + length_s for s, e, _ in words)
