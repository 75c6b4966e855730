"""The one training loop (train/loop.py): when periodic work runs, and in what order."""

from prismaudio.train.loop import Every, due, run_loop


def test_due_every_period_and_at_the_end():
    assert [d for d in range(1, 11) if due(d, 4, 10, False)] == [4, 8]
    assert [d for d in range(1, 11) if due(d, 4, 10, True)] == [4, 8, 10]
    assert [d for d in range(1, 11) if due(d, 0, 10, True)] == [10]  # period 0: only at the end
    assert not any(due(d, 0, 10, False) for d in range(1, 11))


def test_jobs_run_after_their_steps_in_the_order_given_and_resume_mid_way():
    seen = []
    results = run_loop(lambda i: {"i": i}, 3, 7, [
        Every(2, lambda done, r: seen.append(("eval", done, r["i"]))),
        Every(1, lambda done, r: seen.append(("log", done, r["i"]))),
        Every(5, lambda done, r: seen.append(("save", done, r["i"])), at_end=True),
    ])
    assert results == [{"i": i} for i in range(3, 7)]
    assert seen == [("eval", 4, 3), ("log", 4, 3), ("log", 5, 4), ("save", 5, 4), ("eval", 6, 5), ("log", 6, 5),
                    ("log", 7, 6), ("save", 7, 6)]


def test_a_job_can_add_to_the_steps_result():
    rows = run_loop(lambda i: {"i": i}, 0, 2, [Every(1, lambda done, r: r.update(done=done))])
    assert rows == [{"i": 0, "done": 1}, {"i": 1, "done": 2}]


def test_flow_trainer_fit_trains_exactly_as_its_steps_and_checkpoints_on_schedule(tmp_path):
    import torch

    from prismaudio.train.flow_trainer import FlowTrainer, load_run_config
    from test_train_generator import write_config

    torch.set_num_threads(1)
    run = load_run_config(write_config(tmp_path, checkpoint_every=3, keep_checkpoints=10))
    by_fit = FlowTrainer(run)
    by_fit.fit(max_steps=4)
    by_hand = FlowTrainer(run)
    for _ in range(4):
        by_hand.train_step()
    for (name, a), b in zip(by_fit.model.state_dict().items(), by_hand.model.state_dict().values()):
        assert torch.equal(a, b), name
    names = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("step_*"))
    assert names == ["step_00000003.safetensors", "step_00000004.safetensors"]  # every 3 steps and at the end


def test_a_stop_request_ends_the_loop_after_the_current_step_and_the_final_jobs_still_run():
    seen, requested = [], {"stop": False}

    def step(i):
        requested["stop"] = i == 4  # a SIGTERM arrives during step 4
        return i

    results = run_loop(step, 0, 10, [Every(3, lambda done, r: seen.append(("log", done))),
                                     Every(100, lambda done, r: seen.append(("save", done)), at_end=True)],
                       stop=lambda: requested["stop"])
    assert results == [0, 1, 2, 3, 4]
    assert seen == [("log", 3), ("save", 5)]
