"""The MiniLM text encoder: sentence vectors that mean something, whatever the batch."""

import torch

from prismaudio.encoders.text import CHUNK, TextEncoder


def test_embeddings_do_not_depend_on_the_batch():
    # the planner embeds its whole naming vocabulary at once, CHUNK texts per forward pass:
    # a text's vector must be the one it gets alone
    texts = [f"the sound of object number {i} hitting a wooden floor" for i in range(CHUNK + 5)]
    enc = TextEncoder(max_tokens=24)
    together = enc.embed(texts)
    assert together.shape == (CHUNK + 5, 384)
    for i in (0, CHUNK - 1, CHUNK, CHUNK + 4):
        alone = enc.embed([texts[i]])[0]
        assert torch.allclose(together[i], alone, atol=1e-5)
    assert torch.allclose(together.norm(dim=-1), torch.ones(len(texts)), atol=1e-5)


def test_similar_sentences_are_closer():
    dog, bark, engine = TextEncoder(max_tokens=24).embed(["a dog barking", "a barking puppy", "a car engine idling"])
    assert float(dog @ bark) > float(dog @ engine) + 0.2


def test_token_states_are_zero_past_the_text_and_empty_input_is_empty():
    states, mask = TextEncoder(max_tokens=16).encode_with_mask(["a bell", "a long sentence about rain on a tin roof"])
    assert states.shape == (2, 16, 384) and mask.shape == (2, 16)
    assert mask[0].sum() < mask[1].sum()
    assert float(states[0][~mask[0]].abs().max()) == 0.0
    assert TextEncoder().embed([]).shape == (0, 384)
    assert TextEncoder().encode([]).shape == (0, 64, 384)
