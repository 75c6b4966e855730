"""PhysWorld: rendered 3D physics scenes (pybullet) with exact ground truth, written in
SynthCanvas's manifest format so the planner, the evaluation and the benchmarks read it
unchanged. Build with `prismaudio canvas build OUT --world physics`.

It lives inside `canvas/` because it is a second world of the same benchmark: same manifest,
same command, the canvas's reference audio renderer and resumable builder; nothing in the
canvas imports it (only the CLI does), and pybullet is imported only when a scene runs.

    objects       object models, photos, held-out sets, sound classes (data)
    scene         sample a scene (objects, motions, camera, light, floor, degradations)
    camera        camera paths, view / projection matrices, projection to the screen
    simulate      run the scene in pybullet: frames, poses, contacts at every step
    contacts      contact points -> impacts and rolling / sliding spans (pure)
    ground_truth  per-object screen tracks and the clip's events
    textures      skimage photos as floors / backdrops, blur, noise
    sounds        object -> sound class (SynthCanvas or a sound library)
    render_clip   one clip -> files + manifest line;  build: the builder;  report: README
"""
