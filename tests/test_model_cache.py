"""flows.model_cache: a slow-to-build model is built once per process and configuration, never used by two
stages at once, and not kept when building it failed."""

from __future__ import annotations

import threading

import pytest

from flows import model_cache


@pytest.fixture(autouse=True)
def empty_cache():
    model_cache.clear()
    yield
    model_cache.clear()


class Model:
    built = 0

    def __init__(self) -> None:
        Model.built += 1


def test_a_model_is_built_once_and_lent_again() -> None:
    Model.built = 0
    with model_cache.borrowed(("m", "a"), Model) as first:
        assert model_cache.idle_count(("m", "a")) == 0
    with model_cache.borrowed(("m", "a"), Model) as again:
        assert again is first
    assert Model.built == 1 and model_cache.idle_count(("m", "a")) == 1
    with model_cache.borrowed(("m", "b"), Model) as other:  # another configuration: another model
        assert other is not first
    assert Model.built == 2


def test_two_borrowers_at_once_each_get_their_own() -> None:
    Model.built = 0
    inside, release = threading.Barrier(3), threading.Event()  # both stages and this test
    held: list[Model] = []

    def stage() -> None:
        with model_cache.borrowed("m", Model) as model:
            held.append(model)
            inside.wait(timeout=10)
            release.wait(timeout=10)

    threads = [threading.Thread(target=stage) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait(timeout=10)
    assert len(held) == 2 and held[0] is not held[1]
    release.set()
    for t in threads:
        t.join(timeout=10)
    assert Model.built == 2 and model_cache.idle_count("m") == 2


def test_a_failed_build_keeps_nothing_and_a_failed_stage_gives_its_model_back() -> None:
    def broken() -> Model:
        raise RuntimeError("no model file")

    with pytest.raises(RuntimeError), model_cache.borrowed("m", broken):
        pass
    assert model_cache.idle_count("m") == 0
    with pytest.raises(ValueError), model_cache.borrowed("m", Model):
        raise ValueError("the stage failed")
    assert model_cache.idle_count("m") == 1
