"""Training recipes and their corpora: the bundled speech model (``asr_train``, ``asr_corpus``,
``asr_corpus_broad``), its character LM (``asr_lm``), tiny models of each NeMo family for the tests
(``asr_families``) and the call classifier (``classifier_train``, ``classifier_corpus``,
``classifier_heard``). Development tools: they may import ``synth`` and ``benchmarks``; runtime code
(``flows``, ``inference``) never imports them."""
